package org.stablekd.golden;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Lists the fixture files of a classpath directory, so a new file is picked up without code changes. */
final class GoldenFixtures {
    private GoldenFixtures() {}

    /** The {@code *.safetensors} files under classpath directory {@code resourceDir}, sorted by name. */
    static List<Path> list(String resourceDir) throws IOException {
        URL url = GoldenFixtures.class.getClassLoader().getResource(resourceDir);
        if (url == null) throw new IOException("no classpath directory '" + resourceDir + "' (src/test/resources/" + resourceDir + ")");
        if (!url.getProtocol().equals("file")) {
            // Maven runs tests from target/test-classes; fixtures are memory-mapped, so they must be real files
            throw new IOException("golden fixtures must be plain files on the test classpath, found " + url);
        }
        Path dir;
        try {
            dir = Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IOException("cannot list fixtures at " + url, e);
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
        }
    }
}
