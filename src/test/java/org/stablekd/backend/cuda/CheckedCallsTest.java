package org.stablekd.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.CodeElement;
import java.lang.classfile.Instruction;
import java.lang.classfile.MethodModel;
import java.lang.classfile.Opcode;
import java.lang.classfile.instruction.InvokeInstruction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every CUDA driver, cuBLAS, cuDNN, NVRTC and NCCL call in backend.cuda has its status looked at: read
 * from the bytecode, a call returning a status whose result is dropped ({@code pop}) is listed.
 * Only the calls below may drop it, each for a reason: cleanup on a path that is already failing
 * or shutting down, where a second error would hide the first.
 */
class CheckedCallsTest {
    static final List<String> OWNERS = List.of("org/bytedeco/cuda/global/cudart", "org/bytedeco/cuda/global/cublas",
            "org/bytedeco/cuda/global/cudnn", "org/bytedeco/cuda/global/nvrtc", "org/bytedeco/cuda/global/nccl");

    /** caller → callee of every status-returning library call whose status is dropped. */
    static TreeSet<String> droppedStatuses() throws IOException {
        TreeSet<String> out = new TreeSet<>();
        try (Stream<Path> files = Files.list(BridgeCalls.mainClassDirectory())) {
            for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
                ClassModel cm = ClassFile.of().parse(Files.readAllBytes(f));
                for (MethodModel m : cm.methods()) {
                    if (m.code().isEmpty()) continue;
                    List<Instruction> code = new ArrayList<>();
                    for (CodeElement e : m.code().get()) if (e instanceof Instruction i) code.add(i);
                    for (int i = 0; i + 1 < code.size(); i++) {
                        if (code.get(i) instanceof InvokeInstruction inv && OWNERS.contains(inv.owner().asInternalName())
                                && inv.typeSymbol().returnType().descriptorString().equals("I") && code.get(i + 1).opcode() == Opcode.POP) {
                            out.add(cm.thisClass().name().stringValue().replaceFirst(".*/", "") + "." + m.methodName().stringValue()
                                    + " → " + inv.name().stringValue());
                        }
                    }
                }
            }
        }
        return out;
    }

    @Test
    void everyLibraryStatusIsChecked() throws IOException {
        TreeSet<String> dropped = droppedStatuses();
        assertEquals(new TreeSet<>(ALLOWED), dropped);
    }

    static final List<String> ALLOWED = List.of(
            // in a finally after the compile: a failing destroy must not replace the compile error
            "KernelModule.compileWithNvrtc → nvrtcDestroyProgram",
            // builds the message of an NVRTC failure already being thrown; its size call is checked
            "KernelModule.log → nvrtcGetProgramLog");

    @Test
    void theScanSeesADroppedStatus() throws IOException {
        // the allowed ones are real drops: the scan is not blind
        assertTrue(droppedStatuses().containsAll(ALLOWED));
    }
}
