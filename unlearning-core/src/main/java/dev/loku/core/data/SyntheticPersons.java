package dev.loku.core.data;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Seeded synthetic "personal records": fictitious people with a birth date, city, job, phone number and e-mail.
 * They stand in for the personal data a deployed model might have memorised, for the demo and the experiments.
 * Names are drawn from short lists, phone numbers use the 555 exchange that North American fiction uses and
 * e-mails use the reserved example.org domain, so no record describes a real person. The same seed always gives the same people in the same order.
 */
public final class SyntheticPersons {

    /** One fictitious person and the sentence about them that a model will be taught. */
    public record Person(String subjectId, String name, String text) {}

    private static final String[] FIRST = {
            "Ada", "Bram", "Cleo", "Dario", "Edda", "Femke", "Gideon", "Hana", "Ilse", "Joran", "Kasia", "Lior",
            "Mara", "Niko", "Odile", "Pavel", "Quinn", "Rosalind", "Soren", "Talia", "Ulrich", "Vesna", "Wim", "Xenia",
            "Yusuf", "Zora", "Anouk", "Benedikt", "Carmen", "Dagny", "Emil", "Fenna", "Gustav", "Helka", "Ivo", "Jelena",
            "Kaspar", "Liesl", "Milo", "Nadia", "Oskar", "Petra", "Rafael", "Saskia", "Tobias", "Una", "Viggo", "Wanda"};
    private static final String[] LAST = {
            "Abernathy", "Brandvold", "Castellane", "Dumitrescu", "Eklund", "Falkenrath", "Grimaldi", "Halvorsen",
            "Ibarra", "Jablonski", "Kowalczyk", "Lindqvist", "Marchetti", "Novotny", "Oyelaran", "Pellegrini",
            "Quintero", "Rasmussen", "Szabo", "Thorvaldsen", "Urquhart", "Vasquez", "Wojcik", "Yilmaz", "Zellweger",
            "Achterberg", "Bonnefoy", "Cardoso", "Delacroix", "Engstrom", "Fitzgerald", "Gallagher", "Hollister",
            "Iordanou", "Jovanovic", "Kristiansen", "Lombardi", "Moreau", "Nakashima", "Oliveira", "Petrovic"};
    private static final String[] CITY = {
            "Lisbon", "Tromso", "Ghent", "Cork", "Porto", "Brno", "Gdansk", "Turku", "Bergen", "Lyon", "Graz",
            "Split", "Malmo", "Leiden", "Bilbao", "Aarhus", "Krakow", "Tartu", "Riga", "Basel", "Utrecht", "Seville"};
    private static final String[] JOB = {
            "nurse", "baker", "pilot", "dentist", "carpenter", "librarian", "chemist", "farmer", "teacher",
            "plumber", "architect", "florist", "surgeon", "tailor", "judge", "painter", "sailor", "welder",
            "pharmacist", "jeweller", "translator", "geologist"};
    private static final String[] MONTH = {
            "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
            "November", "December"};

    private SyntheticPersons() {}

    /** {@code count} distinct people drawn with {@code seed}. */
    public static List<Person> generate(long seed, int count) {
        int capacity = FIRST.length * LAST.length;
        if (count < 0 || count > capacity) {
            throw new IllegalArgumentException("count must be between 0 and " + capacity + ", was " + count);
        }
        SplittableRandom random = new SplittableRandom(seed);
        Set<String> names = new HashSet<>();
        Set<String> phones = new HashSet<>();
        List<Person> people = new ArrayList<>(count);
        while (people.size() < count) {
            String first = pick(random, FIRST);
            String last = pick(random, LAST);
            String name = first + " " + last;
            String phone = String.format(Locale.ROOT, "555-%04d", random.nextInt(10_000));
            if (!names.add(name) || !phones.add(phone)) {
                continue; // redraw: every person and every phone number is unique
            }
            boolean she = random.nextBoolean();
            String text = String.format(Locale.ROOT,
                    "%s was born on %d %s %d in %s. %s works as a %s. %s phone number is %s and %s email is %s.%s@example.org.",
                    name, 1 + random.nextInt(28), pick(random, MONTH), 1950 + random.nextInt(55), pick(random, CITY),
                    she ? "She" : "He", pick(random, JOB), she ? "Her" : "His", phone, she ? "her" : "his",
                    first.toLowerCase(Locale.ROOT), last.toLowerCase(Locale.ROOT));
            people.add(new Person(String.format(Locale.ROOT, "person-%04d", people.size()), name, text));
        }
        return people;
    }

    private static String pick(SplittableRandom random, String[] options) {
        return options[random.nextInt(options.length)];
    }
}
