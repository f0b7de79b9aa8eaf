# syntax=docker/dockerfile:1
# LoKU Stream unlearning worker on NVIDIA GPUs (CUDA 12.8). Build from the repository root (docs/operations.md):
#   docker build -f deploy/docker/worker-cuda.Dockerfile -t loku/worker-cuda:0.1.0 .
#
# Maven Central has no DJL native jar with a CUDA libtorch 2.7.1, but pytorch-jni 2.7.1-0.36.0 carries the CUDA 12.8
# JNI glue (jnilib/linux-x86_64/cu128/libdjl_torch.so). So the Maven profile cuda leaves the CPU libtorch out, this
# image takes libtorch 2.7.1+cu128 from PyTorch's official image, and three variables point DJL at it.

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B -ntp -Pcuda -pl unlearn-worker -am package -DskipTests -Dloku.registry.skip=true \
 && if ls unlearn-worker/target/lib | grep -q '^pytorch-native-'; then \
      echo "the cuda build must not bundle a libtorch: $(ls unlearn-worker/target/lib | grep '^pytorch-native-')" >&2; exit 1; \
    fi

# Only its Java runtime is used.
FROM eclipse-temurin:17-jre AS jre

FROM pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime
# Where the image's pip-installed torch keeps libtorch; the build stops below if it is elsewhere (then pass
# --build-arg TORCH_LIB=<the path it prints>).
ARG TORCH_LIB=/opt/conda/lib/python3.11/site-packages/torch/lib
COPY --from=jre /opt/java/openjdk /opt/java/openjdk
# PYTORCH_FLAVOR must be cu128: left unset on a GPU host, DJL would look for a "cu128-precxx11" JNI build, which
# does not exist for 2.7.1, and try to download it (DJL_OFFLINE refuses). DJL unpacks the JNI library into
# ENGINE_CACHE_DIR on first start: keep it writable. The MALLOC_* settings keep host-side tensors (CPU fallbacks,
# loading) in one glibc heap instead of unmapping them at every step (docs/performance.md).
ENV JAVA_HOME=/opt/java/openjdk \
    PATH=/opt/java/openjdk/bin:$PATH \
    PYTORCH_LIBRARY_PATH=${TORCH_LIB} \
    PYTORCH_VERSION=2.7.1 \
    PYTORCH_FLAVOR=cu128 \
    DJL_OFFLINE=true \
    DJL_CACHE_DIR=/var/cache/loku/djl \
    ENGINE_CACHE_DIR=/var/cache/loku/djl \
    OMP_WAIT_POLICY=PASSIVE \
    MALLOC_ARENA_MAX=1 \
    MALLOC_MMAP_MAX_=0 \
    MALLOC_TRIM_THRESHOLD_=4294967296 \
    MALLOC_TOP_PAD_=268435456 \
    JDK_JAVA_OPTIONS="-XX:MaxRAMPercentage=25 -XX:+ExitOnOutOfMemoryError"
RUN python -c "import os, sys, torch; lib = os.path.join(os.path.dirname(torch.__file__), 'lib'); \
ok = torch.__version__.startswith('2.7.1') and torch.version.cuda == '12.8' and torch.compiled_with_cxx11_abi(); \
print('torch', torch.__version__, 'cuda', torch.version.cuda, 'lib', lib); \
sys.exit(0 if ok and os.path.samefile(lib, os.environ['PYTORCH_LIBRARY_PATH']) else 'need torch 2.7.1+cu128 (cxx11 ABI) at TORCH_LIB')" \
 && test -f "$PYTORCH_LIBRARY_PATH/libtorch_cuda.so" \
 && java -version \
 && apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 loku \
 && useradd --system --uid 10001 --gid loku --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin loku \
 && install -d -o loku -g loku /var/lib/loku/artifacts /var/cache/loku/djl
COPY --from=build /src/unlearn-worker/target/lib/ /opt/loku/lib/
COPY --from=build /src/unlearn-worker/target/unlearn-worker.jar /opt/loku/unlearn-worker.jar
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=4 \
  CMD curl -fsS -o /dev/null "http://localhost:${LOKU_HTTP_PORT:-8080}/health" || exit 1
ENTRYPOINT ["java", "-jar", "/opt/loku/unlearn-worker.jar"]
