package org.stablekd.cli;

import org.stablekd.tensor.Shape;
import picocli.CommandLine;

/** Parses {@code CxHxW} (e.g. {@code 1x32x32}) for --input. */
final class Shapes implements CommandLine.ITypeConverter<Shape> {
    @Override
    public Shape convert(String value) {
        String[] p = value.toLowerCase().split("x");
        if (p.length != 3) throw new CommandLine.TypeConversionException("'" + value + "' is not CxHxW (e.g. 1x32x32)");
        try {
            int c = Integer.parseInt(p[0]), h = Integer.parseInt(p[1]), w = Integer.parseInt(p[2]);
            if (c < 1 || h < 1 || w < 1) throw new NumberFormatException();
            return Shape.of(c, h, w);
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("'" + value + "' is not CxHxW with positive sizes (e.g. 1x32x32)");
        }
    }
}
