FROM python:3.11-slim
# EXTRAS=server for gateway nodes; EXTRAS=server,bots for the support bot (CPU-only torch).
ARG EXTRAS=server
WORKDIR /app
COPY pyproject.toml README.md ./
COPY proto proto
COPY server server
COPY sdk sdk
COPY bots bots
RUN pip install --no-cache-dir --extra-index-url https://download.pytorch.org/whl/cpu ".[${EXTRAS}]"
EXPOSE 8700
CMD ["parley", "serve", "--host", "0.0.0.0", "--port", "8700"]
