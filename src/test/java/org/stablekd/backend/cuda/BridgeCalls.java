package org.stablekd.backend.cuda;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.annotation.Annotation;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.MethodModel;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The JavaCPP bridge calls the compiled classes of backend.cuda make, read from their bytecode
 * (java.lang.classfile), each resolved to the overload javac chose: which overload a call binds
 * to decides how the bridge converts a pointer, and that is invisible in the source.
 */
record BridgeCalls(String caller, Method target) {

    /** One invoke instruction: where, and the owner/name/descriptor it names. */
    record Invoke(String caller, String owner, String name, String descriptor) {}

    /** Every invoke instruction in the main classes of org.stablekd.backend.cuda. */
    static List<Invoke> invokes() {
        List<Invoke> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(mainClassDirectory())) {
            for (Path f : files.filter(p -> p.toString().endsWith(".class")).sorted().toList()) {
                ClassModel cm = ClassFile.of().parse(Files.readAllBytes(f));
                for (MethodModel m : cm.methods()) {
                    m.code().ifPresent(code -> code.forEach(e -> {
                        if (e instanceof InvokeInstruction inv) {
                            out.add(new Invoke(cm.thisClass().asInternalName() + "." + m.methodName().stringValue(), inv.owner().asInternalName(),
                                    inv.name().stringValue(), inv.type().stringValue()));
                        }
                    }));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** Every call from main classes of org.stablekd.backend.cuda into org.bytedeco.cuda.global, resolved. */
    static List<BridgeCalls> all() {
        List<BridgeCalls> out = new ArrayList<>();
        for (Invoke i : invokes()) {
            if (i.owner().startsWith("org/bytedeco/cuda/global/")) out.add(new BridgeCalls(i.caller(), resolve(i.owner(), i.name(), i.descriptor())));
        }
        return out;
    }

    /** True when parameter i carries annotation type a. */
    boolean parameterHas(int i, Class<? extends Annotation> a) {
        for (Annotation x : target.getParameterAnnotations()[i]) if (a.isInstance(x)) return true;
        return false;
    }

    @Override
    public String toString() {
        return caller + " → " + target.getDeclaringClass().getSimpleName() + "." + target.getName() + MethodType.methodType(target.getReturnType(), target.getParameterTypes());
    }

    private static Method resolve(String owner, String name, String descriptor) {
        ClassLoader loader = BridgeCalls.class.getClassLoader();
        try {
            // loaded, not initialized: no native library is opened
            Class<?> c = Class.forName(owner.replace('/', '.'), false, loader);
            MethodType t = MethodType.fromMethodDescriptorString(descriptor, loader);
            return c.getDeclaredMethod(name, t.parameterArray());
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("cannot resolve " + owner + "." + name + descriptor, e);
        }
    }

    static Path mainClassDirectory() {
        try {
            return Path.of(CudaBackend.class.getProtectionDomain().getCodeSource().getLocation().toURI()).resolve("org/stablekd/backend/cuda");
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
