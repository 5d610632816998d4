package org.stablekd.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.cuda.global.nccl;
import org.bytedeco.cuda.nccl.ncclComm;
import org.bytedeco.cuda.nccl.ncclUniqueId;
import org.bytedeco.javacpp.annotation.ByPtrPtr;
import org.bytedeco.javacpp.annotation.ByVal;
import org.junit.jupiter.api.Test;

/** NCCL's probe and bridge, without a GPU or NCCL: what is linked, what is said when it is missing, which overloads bind. */
class NcclProbeTest {

    @Test
    void theProbeChecksTheLibraryTheBridgeLinks() throws IOException {
        List<String> needed = CudaProbeTest.needed("org/bytedeco/cuda/linux-x86_64/libjninccl.so");
        assertTrue(needed.contains(NcclProbe.LIBRARY), "libjninccl.so links " + needed + ", the probe checks " + NcclProbe.LIBRARY);
        for (String lib : needed) {
            assertTrue(lib.equals(NcclProbe.LIBRARY) || lib.startsWith("libstdc++") || lib.startsWith("libgcc_s") || lib.startsWith("libc.")
                    || lib.startsWith("libm."), "libjninccl.so links " + lib + ", which the NCCL probe does not check");
        }
    }

    @Test
    void aMissingLibraryIsOneSentenceSayingWhereToGetIt() {
        String reason = NcclProbe.reasonFor("libnccl-absent-for-this-test.so.2");
        assertNotNull(reason);
        assertFalse(reason.contains("\n"), reason);
        assertTrue(reason.startsWith("NCCL (libnccl-absent-for-this-test.so.2) not found on LD_LIBRARY_PATH"), reason);
        assertTrue(reason.contains("libnccl2") && reason.contains("LD_LIBRARY_PATH"), reason);
        assertNull(NcclProbe.reasonFor("libc.so.6"), "a library that is present");
    }

    @Test
    void initRankWritesTheCommunicatorBackAndTakesTheIdByValue() throws NoSuchMethodException {
        // NcclComm.init passes an ncclComm for ncclComm_t* (an output the bridge writes back) and the id struct by value
        Method m = nccl.class.getMethod("ncclCommInitRank", ncclComm.class, int.class, ncclUniqueId.class, int.class);
        assertTrue(Arrays.stream(m.getParameterAnnotations()[0]).anyMatch(a -> a instanceof ByPtrPtr), "comm is @ByPtrPtr");
        assertTrue(Arrays.stream(m.getParameterAnnotations()[2]).anyMatch(a -> a instanceof ByVal), "the unique id is @ByVal");
        assertEquals(NcclComm.UNIQUE_ID_BYTES, 128);
    }
}
