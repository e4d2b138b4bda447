# Worker image for the production-shaped stack in docker-compose.yml.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY app ./app
COPY world_engine ./world_engine
COPY profiles ./profiles
COPY schemas ./schemas
RUN pip install --no-cache-dir . \
 && mkdir -p /var/lib/fp/worker
# Profiles are read from here (a wheel install has no repo checkout around it).
ENV FP_PROFILES_DIR=/app/profiles
EXPOSE 6066
ENTRYPOINT ["fp"]
CMD ["--profile", "prod", "worker"]
