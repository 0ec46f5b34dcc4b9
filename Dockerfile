# One image for web, the workers and beat (see docker-compose.yml).
#
# Pinned to amd64: scancode-toolkit's native helpers (typecode-libmagic, extractcode-7z,
# extractcode-libarchive) are published as x86_64 Linux wheels only. On arm64 hosts the
# image builds and runs under emulation instead of failing at `pip install`.
# hadolint ignore=DL3029
FROM --platform=linux/amd64 python:3.12-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# git: repositories are cloned and read with the git binary (governance/git.py).
# libgomp1: needed by the libarchive bundled in the extractcode-libarchive wheel
#   (its libb2 links against libgomp.so.1). The other scancode native libraries
#   (libmagic, zlib, bzip2, lzma, zstd, lz4, 7z) ship inside the wheels.
# bzip2, xz-utils: scancode's install notes list them; small and harmless.
# tini: PID 1 that forwards signals and reaps the orphans git leaves behind.
# Not version-pinned: bookworm point releases remove superseded versions from the mirrors.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates \
      git \
      libgomp1 \
      bzip2 \
      xz-utils \
      tini \
 && rm -rf /var/lib/apt/lists/*

# The services run as this user. It owns only /data (and its home, where scancode
# keeps a small per-user cache directory); the code and site-packages stay root-owned.
RUN groupadd --system --gid 10001 governance \
 && useradd --system --uid 10001 --gid governance --create-home --home-dir /home/governance \
      --shell /usr/sbin/nologin governance \
 && mkdir -p /data \
 && chown governance:governance /data

WORKDIR /app

# Dependencies first, for layer caching: this layer is rebuilt only when pyproject.toml or
# requirements.lock change. Installs [project].dependencies (not the dev extra), pinned
# to the exact versions of the lock.
# The pipelines' client (clients/python) comes with the code below: its own dependencies (pyarrow,
# cryptography) are the portal's too.
# pyfusefilter (the releases' membership filter, releases/fuse.py) publishes no wheel for Python 3.12: pip
# builds it from source with cffi, so a C compiler is here for this layer only.
# hadolint ignore=DL3008
COPY pyproject.toml requirements.lock ./
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && python -c "import tomllib; print(*(d for d in tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'] if not d.startswith('dataset-exclusions')), sep=chr(10))" \
      > /tmp/requirements.txt \
 && pip install -c requirements.lock -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt \
 && apt-get purge -y --auto-remove gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*

# scancode's license index (and package-pattern index) must be in the image, never built at
# first start: a build takes minutes and ~1.6 GB of memory, and the runtime user could not
# write it anyway. The index lives in site-packages
# (licensedcode/data/cache/license_index/index_cache, ~400 MB; no SCANCODE_LICENSE_INDEX_CACHE
# is set). The scancode-toolkit 32.5.0 wheel ships it prebuilt, so get_index()/get_cache()
# just load and check it, and build it right here if the installed distribution lacks it.
# Deliberately not `scancode-reindex-licenses`: it forces a rebuild of the same index and
# would store a second ~400 MB copy of the file in this layer.
# The find fails the build if anything in the caches is not world-readable.
RUN python -c "from licensedcode.cache import get_index; from packagedcode.cache import get_cache; get_index(); get_cache()" \
 && SITE="$(python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" \
 && ls -l "$SITE/licensedcode/data/cache/license_index/index_cache" \
          "$SITE/packagedcode/data/cache/package_patterns_index/index_cache" \
 && test -z "$(find "$SITE/licensedcode/data/cache" "$SITE/packagedcode/data/cache" \
                \( -type d ! -perm -o=rx \) -o \( -type f ! -perm -o=r \))" \
 && rm -rf /tmp/scancode-*

# The code. Installed in editable mode, so the one copy that runs is the one in /app:
# settings find templates/ and governance/static/ relative to the source tree, which a
# regular install into site-packages would not carry.
COPY . .
RUN pip install --no-deps -e clients/python -e .

ENV GOVERNANCE_DATA_DIR=/data
# Numeric, so orchestrators can verify it is not root (HOME still resolves to /home/governance).
USER 10001:10001
VOLUME /data
EXPOSE 8000

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["gunicorn", "governance.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2"]
