package dev.loku.runtime.service;

import java.util.Objects;

/**
 * A service's health as {@code /health} reports it: 200 only when {@link Status#UP}, 503 with the reason otherwise.
 * {@link Status#FAILED} is final: the service cannot recover by itself, and its process should exit so the
 * orchestrator restarts it.
 *
 * @param status where the service is
 * @param reason why it is not UP, in words for an operator (never data)
 */
public record Health(Status status, String reason) {

    /** Where a service is. */
    public enum Status {
        /** Not started yet, or starting. */
        STARTING,
        /** Processing: stream RUNNING, or consumer polling with partitions assigned. */
        UP,
        /** Temporarily not processing (rebalancing, no partitions assigned, broker unreachable). */
        DOWN,
        /** Stopped after an error it cannot recover from. */
        FAILED,
        /** Stopped on request. */
        STOPPED
    }

    public Health {
        Objects.requireNonNull(status, "status");
        reason = reason == null ? "" : reason;
    }

    public static Health up() {
        return new Health(Status.UP, "");
    }

    public static Health of(Status status, String reason) {
        return new Health(status, reason);
    }

    public boolean isUp() {
        return status == Status.UP;
    }

    /** Whether the service has stopped for good (on request or by failure). */
    public boolean isTerminal() {
        return status == Status.FAILED || status == Status.STOPPED;
    }
}
