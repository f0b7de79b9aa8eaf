/**
 * The service contract: {@link dev.loku.runtime.service.Service} (start, stop, health, metrics),
 * {@link dev.loku.runtime.service.ServiceHttpServer} ({@code /health}: 200 only when UP, else 503 with the reason;
 * {@code /metrics}), and {@link dev.loku.runtime.service.ServiceRunner}, which a {@code loku serve X} command uses to
 * run a service until SIGTERM or Ctrl-C.
 */
package dev.loku.runtime.service;
