"""docker-compose.yml cannot run here; these checks keep it consistent with profiles/prod.yaml."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import yaml

from app.objectstore.config import S3ObjectStoreConfig
from app.profiles.loader import load_profile, repo_root
from app.profiles.wiring import KafkaBroker


def _yaml(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load((repo_root() / name).read_text()))


def test_compose_declares_the_production_shaped_stack() -> None:
    services = _yaml("docker-compose.yml")["services"]
    assert {"redpanda", "minio", "fp-worker", "prometheus", "grafana"} <= set(services)
    assert services["fp-worker"]["command"] == ["--profile", "prod", "worker"]
    assert "replicas" in services["fp-worker"]["deploy"]


def test_prod_profile_addresses_match_compose_services() -> None:
    wiring = load_profile("prod").wiring
    services = _yaml("docker-compose.yml")["services"]
    assert isinstance(wiring.broker, KafkaBroker)
    assert isinstance(wiring.object_store, S3ObjectStoreConfig)
    for server in wiring.broker.bootstrap_servers:
        assert server.split(":")[0] in services
    assert urlparse(wiring.object_store.endpoint_url).hostname in services


def test_every_secret_env_name_of_prod_is_passed_to_workers() -> None:
    wiring = load_profile("prod").wiring
    env = _yaml("docker-compose.yml")["services"]["fp-worker"]["environment"]
    assert isinstance(wiring.object_store, S3ObjectStoreConfig)
    for name in (wiring.ingest_api_key_env, wiring.object_store.access_key_id_env,
                 wiring.object_store.secret_access_key_env):
        assert name in env


def test_prometheus_scrapes_the_worker_metrics_port() -> None:
    port = load_profile("prod").wiring.worker.web_port
    jobs = {j["job_name"]: j for j in _yaml("deploy/prometheus.yml")["scrape_configs"]}
    sd = jobs["fp-worker"]["dns_sd_configs"][0]
    assert sd["names"] == ["fp-worker"] and sd["port"] == port
    assert jobs["fp-worker"]["metrics_path"] == "/metrics"
