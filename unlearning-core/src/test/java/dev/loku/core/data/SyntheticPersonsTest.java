package dev.loku.core.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class SyntheticPersonsTest {

    @Test
    void sameSeedGivesSamePeopleAndDifferentSeedsDiffer() {
        List<SyntheticPersons.Person> a = SyntheticPersons.generate(7, 300);
        assertEquals(a, SyntheticPersons.generate(7, 300));
        assertNotEquals(a, SyntheticPersons.generate(8, 300));
    }

    @Test
    void everyPersonIsDistinctAndMentionedInTheirOwnRecord() {
        List<SyntheticPersons.Person> people = SyntheticPersons.generate(1, 500);
        assertEquals(500, people.size());
        assertEquals(500, new HashSet<>(people.stream().map(SyntheticPersons.Person::name).toList()).size());
        assertEquals(500, new HashSet<>(people.stream().map(SyntheticPersons.Person::subjectId).toList()).size());
        for (SyntheticPersons.Person p : people) {
            assertTrue(p.text().startsWith(p.name() + " was born on "), p.text());
            assertTrue(p.text().matches(".* phone number is 555-\\d{4} and (her|his) email is [a-z]+\\.[a-z]+@example\\.org\\."),
                    p.text());
        }
    }

    @Test
    void refusesMorePeopleThanTheNameListsAllow() {
        assertThrows(IllegalArgumentException.class, () -> SyntheticPersons.generate(1, 1_000_000));
    }
}
