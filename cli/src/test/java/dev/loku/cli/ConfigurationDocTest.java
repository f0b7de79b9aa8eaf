package dev.loku.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.runtime.config.ConfigDocs;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/configuration.md lists exactly the fields the services declare (it is generated; this test keeps it so). */
class ConfigurationDocTest {

    static final String BEGIN = "<!-- BEGIN GENERATED: ./loku serve --config-docs -->\n";
    static final String END = "<!-- END GENERATED -->";

    @Test
    void theDocMatchesTheFieldDeclarations() throws Exception {
        Path doc = Path.of(System.getProperty("loku.project.root", "..")).resolve("docs/configuration.md");
        String text = Files.readString(doc);
        int begin = text.indexOf(BEGIN);
        int end = text.indexOf(END);
        assertTrue(begin >= 0 && end > begin, doc + " lacks the generated-section markers");
        String expected = ConfigDocs.markdown(ServeCommand.allGroups());
        assertEquals(expected, text.substring(begin + BEGIN.length(), end),
                "docs/configuration.md is stale: replace its generated section with the output of "
                        + "'./loku serve --config-docs'");
    }
}
