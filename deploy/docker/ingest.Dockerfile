# syntax=docker/dockerfile:1
# LoKU Stream ingest service (Kafka Streams; no engine, so no libtorch in this image).
# Build from the repository root (docs/operations.md, "Images"):
#   docker build -f deploy/docker/ingest.Dockerfile -t loku/ingest:0.1.0 .

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
# The service module and what it needs; no tests, and no registry server (it only serves the tests).
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B -ntp -pl ingest-service -am package -DskipTests -Dloku.registry.skip=true

FROM eclipse-temurin:17-jre
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 loku \
 && useradd --system --uid 10001 --gid loku --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin loku \
 && install -d -o loku -g loku /var/lib/loku/artifacts /var/lib/loku/ingest-state
COPY --from=build /src/ingest-service/target/lib/ /opt/loku/lib/
COPY --from=build /src/ingest-service/target/ingest-service.jar /opt/loku/ingest-service.jar
ENV DJL_OFFLINE=true \
    LOKU_INGEST_STATE_DIR=/var/lib/loku/ingest-state \
    JDK_JAVA_OPTIONS="-XX:MaxRAMPercentage=60 -XX:+ExitOnOutOfMemoryError"
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=4 \
  CMD curl -fsS -o /dev/null "http://localhost:${LOKU_HTTP_PORT:-8080}/health" || exit 1
ENTRYPOINT ["java", "-jar", "/opt/loku/ingest-service.jar"]
