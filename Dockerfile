# The RNU application image: API, web app, CLI and background worker (compose.yaml runs the
# same image as `api`, `worker` and the one-shot `migrate`).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY rnu ./rnu
COPY loaders ./loaders
COPY api ./api
COPY privacy ./privacy
COPY web ./web
RUN pip install --no-cache-dir . \
 && useradd --system --home /app rnu \
 && mkdir -p /data && chown rnu /data
USER rnu
ENV RNU_DATA_DIR=/data RNU_HOST=0.0.0.0
EXPOSE 8000
# Several worker processes per container; compose.yaml sets the count (RNU_API_WORKERS).
# Proxy headers off: RNU parses X-Forwarded-For itself, from RNU_TRUSTED_PROXIES only
# (api/serving.py); uvicorn's own parser would let clients choose their rate-limit key.
CMD ["uvicorn", "web.app:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000", \
     "--workers", "4", "--no-proxy-headers", "--no-server-header", "--no-access-log"]
