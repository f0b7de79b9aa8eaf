package dev.loku.cli;

import dev.loku.cli.ExperimentResults.EpochPoint;
import dev.loku.cli.ExperimentResults.MethodRun;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Stroke;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import javax.imageio.ImageIO;

/**
 * The memorisation experiment as one PNG of four panels, drawn with Java2D (headless, no chart library):
 * forget MA, forget EL_10 and retain MA per epoch for every method, with the unseen-data thresholds as dashed lines
 * in the first two, and the change in story NLL per method as bars. Method i is drawn in {@link #COLORS}[i] in every
 * panel.
 */
final class ExperimentChart {

    static final int WIDTH = 1200;
    static final int HEIGHT = 900;

    /** Colour-blind-safe (Okabe–Ito) series colours, in run order. */
    static final Color[] COLORS = {
            new Color(0xE69F00), new Color(0x56B4E9), new Color(0x009E73), new Color(0xCC79A7),
            new Color(0x0072B2), new Color(0xD55E00), new Color(0xF0E442), new Color(0x000000)};
    static final Color THRESHOLD = new Color(0xC00000);

    /** Panel geometry; tests read the plot areas to find where a value lands. */
    static final int PANEL_W = WIDTH / 2;
    static final int PANEL_H = HEIGHT / 2;
    static final int LEFT = 70;
    static final int RIGHT = 20;
    static final int TOP = 40;
    static final int BOTTOM = 80;

    private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 15);
    private static final Font LABEL = new Font(Font.SANS_SERIF, Font.PLAIN, 12);

    private ExperimentChart() {}

    /** Renders and writes the chart as PNG, creating the parent directory if needed. */
    static void write(ExperimentResults results, Path png) throws IOException {
        BufferedImage image = render(results);
        if (png.getParent() != null) {
            Files.createDirectories(png.getParent());
        }
        if (!ImageIO.write(image, "png", png.toFile())) {
            throw new IOException("no PNG writer in this JVM");
        }
    }

    static BufferedImage render(ExperimentResults results) {
        System.setProperty("java.awt.headless", "true");
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, HEIGHT);
            int maxEpoch = results.runs().stream().mapToInt(r -> r.last().epoch()).max().orElse(1);
            maxEpoch = Math.max(1, maxEpoch);
            ExperimentResults.Setup s = results.setup();
            linePanel(g, 0, 0, "Forget MA per epoch (dashed: unseen threshold)", results.runs(), maxEpoch,
                    EpochPoint::forgetMa, s.thresholdMa());
            linePanel(g, PANEL_W, 0, "Forget EL_10 per epoch (dashed: unseen threshold)", results.runs(), maxEpoch,
                    EpochPoint::forgetEl10, s.thresholdEl10());
            linePanel(g, 0, PANEL_H, "Retain MA per epoch", results.runs(), maxEpoch, EpochPoint::retainMa,
                    Double.NaN);
            nllPanel(g, PANEL_W, PANEL_H, results);
        } finally {
            g.dispose();
        }
        return image;
    }

    /** Pixel row of value {@code v} on a [0, 1] axis in a panel whose top edge is {@code y0}. */
    static int yOf(int y0, double v) {
        int h = PANEL_H - TOP - BOTTOM;
        return y0 + TOP + (int) Math.round((1 - v) * h);
    }

    /** Pixel column of epoch {@code e} on a [0, maxEpoch] axis in a panel whose left edge is {@code x0}. */
    static int xOf(int x0, int e, int maxEpoch) {
        int w = PANEL_W - LEFT - RIGHT;
        return x0 + LEFT + (int) Math.round((double) e / maxEpoch * w);
    }

    /** One line of a panel: a label and its values per epoch. */
    record Series(String label, int[] epochs, double[] values) {
        Series {
            if (epochs.length != values.length) {
                throw new IllegalArgumentException("one value per epoch");
            }
        }
    }

    private static void linePanel(Graphics2D g, int x0, int y0, String title, List<MethodRun> runs, int maxEpoch,
            ToDoubleFunction<EpochPoint> metric, double threshold) {
        List<Series> series = runs.stream().map(r -> new Series(r.label(),
                r.epochs().stream().mapToInt(EpochPoint::epoch).toArray(),
                r.epochs().stream().mapToDouble(metric).toArray())).toList();
        linePanel(g, x0, y0, title, series, maxEpoch, 0, 1, "%.2f", threshold);
    }

    /**
     * A panel of lines over epochs on a [lo, hi] value axis (values outside are drawn at the edge), with an optional
     * dashed threshold line (NaN for none) and a legend; series i is drawn in {@link #COLORS}[i].
     */
    static void linePanel(Graphics2D g, int x0, int y0, String title, List<Series> series, int maxEpoch, double lo,
            double hi, String tickFormat, double threshold) {
        frame(g, x0, y0, title);
        g.setFont(LABEL);
        FontMetrics fm = g.getFontMetrics();
        for (int i = 0; i <= 4; i++) {
            double v = i / 4.0;
            int y = yOf(y0, v);
            g.setColor(new Color(0xE0E0E0));
            g.drawLine(x0 + LEFT, y, x0 + PANEL_W - RIGHT, y);
            g.setColor(Color.DARK_GRAY);
            String t = String.format(Locale.ROOT, tickFormat, lo + v * (hi - lo));
            g.drawString(t, x0 + LEFT - 6 - fm.stringWidth(t), y + 4);
        }
        int step = Math.max(1, (int) Math.ceil(maxEpoch / 10.0));
        for (int e = 0; e <= maxEpoch; e += step) {
            String t = Integer.toString(e);
            g.drawString(t, xOf(x0, e, maxEpoch) - fm.stringWidth(t) / 2, yOf(y0, 0) + 16);
        }
        g.drawString("epoch", x0 + LEFT + (PANEL_W - LEFT - RIGHT) / 2 - fm.stringWidth("epoch") / 2,
                yOf(y0, 0) + 32);
        Stroke plain = g.getStroke();
        if (Double.isFinite(threshold)) {
            g.setColor(THRESHOLD);
            g.setStroke(new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {8f, 6f},
                    0f));
            int y = yOf(y0, clamp((threshold - lo) / (hi - lo)));
            g.drawLine(x0 + LEFT, y, x0 + PANEL_W - RIGHT, y);
        }
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setStroke(new BasicStroke(2.5f));
        for (int i = 0; i < series.size(); i++) {
            g.setColor(COLORS[i % COLORS.length]);
            Series s = series.get(i);
            for (int k = 0; k < s.epochs().length; k++) {
                int x = xOf(x0, s.epochs()[k], maxEpoch);
                int y = yOf(y0, clamp((s.values()[k] - lo) / (hi - lo)));
                if (k > 0) {
                    g.drawLine(xOf(x0, s.epochs()[k - 1], maxEpoch),
                            yOf(y0, clamp((s.values()[k - 1] - lo) / (hi - lo))), x, y);
                }
                g.fillOval(x - 3, y - 3, 7, 7);
            }
        }
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_OFF);
        g.setStroke(plain);
        legend(g, x0, y0, series.stream().map(Series::label).toList());
    }

    private static void nllPanel(Graphics2D g, int x0, int y0, ExperimentResults results) {
        frame(g, x0, y0, "Story NLL change after unlearning (nats/token)");
        List<MethodRun> runs = results.runs();
        double[] d = new double[runs.size()];
        double span = 0.01;
        for (int i = 0; i < d.length; i++) {
            d[i] = runs.get(i).storyNllAfter() - results.base().storyNll();
            if (Double.isFinite(d[i])) {
                span = Math.max(span, Math.abs(d[i]));
            }
        }
        span *= 1.15;
        int top = y0 + TOP;
        int h = PANEL_H - TOP - BOTTOM;
        int zero = top + h / 2;
        g.setFont(LABEL);
        FontMetrics fm = g.getFontMetrics();
        g.setColor(Color.DARK_GRAY);
        for (int k = -2; k <= 2; k++) {
            double v = span * k / 2;
            int y = zero - (int) Math.round(v / span * (h / 2.0));
            g.setColor(k == 0 ? Color.GRAY : new Color(0xE0E0E0));
            g.drawLine(x0 + LEFT, y, x0 + PANEL_W - RIGHT, y);
            g.setColor(Color.DARK_GRAY);
            String t = String.format(Locale.ROOT, "%+.2f", v);
            g.drawString(t, x0 + LEFT - 6 - fm.stringWidth(t), y + 4);
        }
        int w = PANEL_W - LEFT - RIGHT;
        int slot = runs.isEmpty() ? w : w / runs.size();
        for (int i = 0; i < runs.size(); i++) {
            int bx = x0 + LEFT + i * slot + slot / 5;
            int bw = slot * 3 / 5;
            if (Double.isFinite(d[i])) {
                int len = (int) Math.round(Math.abs(d[i]) / span * (h / 2.0));
                g.setColor(COLORS[i % COLORS.length]);
                g.fillRect(bx, d[i] >= 0 ? zero - len : zero, bw, Math.max(1, len));
                g.setColor(Color.DARK_GRAY);
                String v = String.format(Locale.ROOT, "%+.3f", d[i]);
                g.drawString(v, bx + bw / 2 - fm.stringWidth(v) / 2, d[i] >= 0 ? zero - len - 4 : zero + len + 14);
            }
            g.setColor(Color.DARK_GRAY);
            String name = runs.get(i).label();
            g.drawString(name, bx + bw / 2 - fm.stringWidth(name) / 2, top + h + 18);
        }
    }

    static void frame(Graphics2D g, int x0, int y0, String title) {
        g.setColor(Color.BLACK);
        g.setFont(TITLE);
        g.drawString(title, x0 + LEFT, y0 + 24);
        g.setColor(Color.GRAY);
        g.drawRect(x0 + LEFT, y0 + TOP, PANEL_W - LEFT - RIGHT, PANEL_H - TOP - BOTTOM);
    }

    private static void legend(Graphics2D g, int x0, int y0, List<String> labels) {
        g.setFont(LABEL);
        FontMetrics fm = g.getFontMetrics();
        int x = x0 + LEFT;
        int y = y0 + PANEL_H - 18;
        for (int i = 0; i < labels.size(); i++) {
            String name = labels.get(i);
            int width = 22 + fm.stringWidth(name) + 14;
            if (x + width > x0 + PANEL_W - RIGHT) {
                break; // the chart's other panels or the page's table name every method
            }
            g.setColor(COLORS[i % COLORS.length]);
            g.fillRect(x, y - 9, 16, 10);
            g.setColor(Color.DARK_GRAY);
            g.drawString(name, x + 20, y);
            x += width;
        }
    }

    private static double clamp(double v) {
        return Double.isFinite(v) ? Math.max(0, Math.min(1, v)) : 0;
    }
}
