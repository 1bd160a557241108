# The RNU application image: API, web app and CLI (the worker uses the same image).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY rnu ./rnu
COPY loaders ./loaders
COPY api ./api
COPY privacy ./privacy
COPY web ./web
RUN pip install --no-cache-dir . && useradd --system --home /app rnu
USER rnu
EXPOSE 8000
CMD ["rnu", "serve", "--host", "0.0.0.0"]
