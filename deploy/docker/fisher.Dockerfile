# syntax=docker/dockerfile:1
# LoKU Stream Fisher importance service, with DJL's bundled CPU libtorch.
# Build from the repository root (docs/operations.md, "Images"):
#   docker build -f deploy/docker/fisher.Dockerfile -t loku/fisher:0.1.0 .

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
# The service module and what it needs; no tests, and no registry server (it only serves the tests).
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B -ntp -pl fisher-service -am package -DskipTests -Dloku.registry.skip=true

FROM eclipse-temurin:17-jre
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 loku \
 && useradd --system --uid 10001 --gid loku --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin loku \
 && install -d -o loku -g loku /var/lib/loku/artifacts /var/cache/loku/djl
COPY --from=build /src/fisher-service/target/lib/ /opt/loku/lib/
COPY --from=build /src/fisher-service/target/fisher-service.jar /opt/loku/fisher-service.jar
# DJL unpacks libtorch (about 430 MB) from its jar into DJL_CACHE_DIR on first start: keep it writable.
# Tensors live outside the Java heap, hence the small heap share; libgomp threads must not spin while idle; glibc
# keeps freed tensor memory in one heap instead of unmapping and faulting it in at every step (docs/performance.md).
ENV DJL_OFFLINE=true \
    DJL_CACHE_DIR=/var/cache/loku/djl \
    ENGINE_CACHE_DIR=/var/cache/loku/djl \
    OMP_WAIT_POLICY=PASSIVE \
    MALLOC_ARENA_MAX=1 \
    MALLOC_MMAP_MAX_=0 \
    MALLOC_TRIM_THRESHOLD_=4294967296 \
    MALLOC_TOP_PAD_=268435456 \
    JDK_JAVA_OPTIONS="-XX:MaxRAMPercentage=25 -XX:+ExitOnOutOfMemoryError"
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=4 \
  CMD curl -fsS -o /dev/null "http://localhost:${LOKU_HTTP_PORT:-8080}/health" || exit 1
ENTRYPOINT ["java", "-jar", "/opt/loku/fisher-service.jar"]
