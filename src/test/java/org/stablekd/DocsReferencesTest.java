package org.stablekd;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * References in comments and documents point at things that exist in the repository (see
 * docs/design.md, References in comments): no citation of the founding brief, which a clone does
 * not have; every cited note defined in NOTES.md; every pointer into docs/design.md naming one of
 * its sections; every relative markdown link (and its anchor), every repository path and every
 * test class named in a source file resolving.
 */
class DocsReferencesTest {
    /** Folders never scanned: build output, run folders, generated results, binary fixtures. */
    private static final Set<String> SKIPPED_DIRS = Set.of(".git", "target", "runs", ".gpu", "node_modules", ".idea");
    private static final Set<String> SKIPPED_PATHS = Set.of("src/test/resources", "benchmarks/results/raw");
    private static final Set<String> TEXT = Set.of("java", "md", "py", "sh", "cu", "cuh", "xml", "yaml", "yml");
    /** The convention's own placeholders ("cite it as Note [Title]"), not citations. */
    private static final Set<String> NOTE_PLACEHOLDERS = Set.of("Title", "..");

    // Built from pieces so this file does not match its own rules.
    private static final Pattern BRIEF = Pattern.compile("DESIGN\\s*\u00a7|DESIGN\\.md");
    private static final Pattern NOTE = Pattern.compile("Note \\[([^\\]\\n]+)]");
    private static final Pattern NOTE_HEADING = Pattern.compile("(?m)^## Note \\[([^\\]]+)]\\s*$");
    private static final Pattern DESIGN_POINTER = Pattern.compile("docs/design\\.md,");
    private static final Pattern HEADING = Pattern.compile("(?m)^#{1,6}\\s+(.+?)\\s*#*\\s*$");
    private static final Pattern MD_LINK = Pattern.compile("!?\\[[^\\]\\n]*]\\(([^)\\s]+)\\)");
    private static final Pattern REPO_PATH = Pattern.compile(
            "(?<![\\w./$<>-])(?:src|docs|scripts|native|benchmarks)/[\\w./-]*\\.(?:md|java|py|sh|cu|cuh|yaml|yml|xml)\\b");

    private static final Pattern TEST_CLASS = Pattern.compile("(?<![\\w.])([A-Z][A-Za-z0-9]*Test)\\b");
    /** JUnit's own names that end in Test. */
    private static final Set<String> JUNIT_NAMES = Set.of("Test", "ParameterizedTest", "DynamicTest", "RepeatedTest");

    private static final Path ROOT = Path.of("").toAbsolutePath();
    private static Map<Path, String> files;

    @BeforeAll
    static void readTheRepository() throws IOException {
        files = new HashMap<>();
        try (Stream<Path> walk = Files.walk(ROOT)) {
            for (Path p : (Iterable<Path>) walk.filter(Files::isRegularFile)::iterator) {
                Path rel = ROOT.relativize(p);
                if (skipped(rel) || !isText(rel) || Files.size(p) > 2_000_000) continue;
                String text = utf8(Files.readAllBytes(p));
                if (text != null) files.put(rel, text);
            }
        }
        assertTrue(files.containsKey(Path.of("README.md")) && files.containsKey(Path.of("docs/design.md")),
                "run from the repository root (found " + files.size() + " files under " + ROOT + ")");
    }

    @Test
    void nothingCitesTheFoundingBrief() {
        List<String> bad = new ArrayList<>();
        each((rel, line, text) -> {
            Matcher m = BRIEF.matcher(text);
            if (m.find()) bad.add(rel + ":" + line + ": " + text.strip());
        });
        assertTrue(bad.isEmpty(), "citations of the founding brief, which is not in the repository; point at the matching "
                + "section of docs/design.md instead:\n  " + String.join("\n  ", bad));
    }

    @Test
    void everyCitedNoteIsDefinedInNotes() {
        Set<String> defined = new LinkedHashSet<>();
        Matcher h = NOTE_HEADING.matcher(files.get(Path.of("NOTES.md")));
        while (h.find()) defined.add(h.group(1));
        assertFalse(defined.isEmpty(), "NOTES.md defines no '## Note [Title]' sections");
        List<String> bad = new ArrayList<>();
        each((rel, line, text) -> {
            Matcher m = NOTE.matcher(text);
            while (m.find()) {
                String name = m.group(1);
                if (!defined.contains(name) && !NOTE_PLACEHOLDERS.contains(name)) bad.add(rel + ":" + line + ": " + name);
            }
        });
        assertTrue(bad.isEmpty(), "notes cited but not defined in NOTES.md (it defines "  + defined + "):\n  " + String.join("\n  ", bad));
    }

    @Test
    void everyPointerIntoTheDesignNamesOneOfItsSections() {
        List<String> titles = new ArrayList<>();
        Matcher h = HEADING.matcher(withoutFences(files.get(Path.of("docs/design.md"))));
        while (h.find()) titles.add(h.group(1));
        List<String> bad = new ArrayList<>();
        files.forEach((rel, text) -> {
            Matcher m = DESIGN_POINTER.matcher(text);
            while (m.find()) {
                // the title may wrap onto the next comment line: join lines, dropping comment leaders
                String rest = text.substring(m.end(), Math.min(text.length(), m.end() + 200))
                        .replaceAll("\\s*\\R\\s*(?:\\*(?!/)|//|#)?\\s*", " ").strip();
                if (titles.stream().noneMatch(rest::startsWith)) {
                    bad.add(rel + ":" + lineOf(text, m.start()) + ": names \"" + rest.substring(0, Math.min(60, rest.length())) + "…\"");
                }
            }
        });
        assertTrue(bad.isEmpty(), "pointers to sections docs/design.md does not have (its sections: " + titles + "):\n  "
                + String.join("\n  ", bad));
    }

    @Test
    void everyRelativeMarkdownLinkResolves() {
        List<String> bad = new ArrayList<>();
        files.forEach((rel, text) -> {
            if (!rel.toString().endsWith(".md")) return;
            String prose = withoutFences(text).replaceAll("`[^`\\n]*`", "");
            Matcher m = MD_LINK.matcher(prose);
            while (m.find()) {
                String target = m.group(1);
                if (target.matches("^[a-z][a-z0-9+.-]*:.*")) continue; // http:, https:, mailto:
                int hash = target.indexOf('#');
                String file = hash < 0 ? target : target.substring(0, hash), anchor = hash < 0 ? "" : target.substring(hash + 1);
                Path resolved = file.isEmpty() ? rel : normalize(rel.getParent(), file);
                String where = rel + ":" + lineOf(prose, m.start()) + ": (" + target + ")";
                if (resolved == null || !Files.exists(ROOT.resolve(resolved))) {
                    bad.add(where + " points at a missing file");
                } else if (!anchor.isEmpty() && resolved.toString().endsWith(".md")) {
                    String doc = files.get(resolved);
                    if (doc == null || !anchors(doc).contains(anchor)) bad.add(where + " names a missing section of " + resolved);
                }
            }
        });
        assertTrue(bad.isEmpty(), "broken markdown links:\n  " + String.join("\n  ", bad));
    }

    @Test
    void everyRepositoryPathNamedInASourceFileExists() {
        List<String> bad = new ArrayList<>();
        each((rel, line, text) -> {
            Matcher m = REPO_PATH.matcher(text);
            while (m.find()) {
                String path = m.group().replaceAll("\\.+$", "");
                if (!Files.exists(ROOT.resolve(path))) bad.add(rel + ":" + line + ": " + path);
            }
        });
        assertTrue(bad.isEmpty(), "repository paths that do not exist:\n  " + String.join("\n  ", bad));
    }

    @Test
    void everyTestClassNamedExists() {
        Set<String> classes = new LinkedHashSet<>();
        for (Path rel : files.keySet()) {
            String name = rel.getFileName().toString();
            if (name.endsWith(".java")) classes.add(name.substring(0, name.length() - 5));
        }
        List<String> bad = new ArrayList<>();
        each((rel, line, text) -> {
            Matcher m = TEST_CLASS.matcher(text);
            while (m.find()) {
                if (!classes.contains(m.group(1)) && !JUNIT_NAMES.contains(m.group(1))) bad.add(rel + ":" + line + ": " + m.group(1));
            }
        });
        assertTrue(bad.isEmpty(), "test classes named that do not exist:\n  " + String.join("\n  ", bad));
    }

    // ------------------------------------------------------------------------------------------

    private interface LineVisitor {
        void visit(Path rel, int line, String text);
    }

    private static void each(LineVisitor v) {
        files.forEach((rel, text) -> {
            String[] lines = text.split("\\R", -1);
            for (int i = 0; i < lines.length; i++) v.visit(rel, i + 1, lines[i]);
        });
    }

    private static boolean skipped(Path rel) {
        for (Path part : rel) if (SKIPPED_DIRS.contains(part.toString())) return true;
        String s = rel.toString().replace('\\', '/');
        return SKIPPED_PATHS.stream().anyMatch(s::startsWith);
    }

    /** Files with a text extension, plus extensionless scripts (./stablekd, scripts/test, .ci/run). */
    private static boolean isText(Path rel) {
        String name = rel.getFileName().toString();
        int dot = name.lastIndexOf('.');
        if (dot <= 0) return true;
        return TEXT.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    private static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null; // a binary file
        }
    }

    /** Markdown without its fenced code blocks (each replaced by as many empty lines). */
    private static String withoutFences(String md) {
        StringBuilder out = new StringBuilder();
        boolean fenced = false;
        for (String line : md.split("\\R", -1)) {
            if (line.strip().startsWith("```")) fenced = !fenced;
            out.append(fenced || line.strip().startsWith("```") ? "" : line).append('\n');
        }
        return out.toString();
    }

    /** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
    static Set<String> anchors(String md) {
        Set<String> out = new LinkedHashSet<>();
        Map<String, Integer> seen = new HashMap<>();
        Matcher h = HEADING.matcher(withoutFences(md));
        while (h.find()) {
            String slug = h.group(1).toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
            int n = seen.merge(slug, 1, Integer::sum) - 1;
            out.add(n == 0 ? slug : slug + "-" + n);
        }
        return out;
    }

    private static Path normalize(Path dir, String file) {
        Path p = (dir == null ? Path.of("") : dir).resolve(file).normalize();
        return p.startsWith("..") ? null : p;
    }

    private static int lineOf(String text, int offset) {
        int line = 1;
        for (int i = 0; i < offset; i++) if (text.charAt(i) == '\n') line++;
        return line;
    }
}
