FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY proto proto
COPY server server
COPY sdk sdk
COPY bots bots
RUN pip install --no-cache-dir '.[server]'
EXPOSE 8700
CMD ["parley", "serve", "--host", "0.0.0.0", "--port", "8700"]
