#!/usr/bin/env python3
"""Writes a synthetic hardening.toml with N http services, for benchmarks.

Usage: make-spec.py N > hardening.toml

Every service has the App-Oint example's shape: endpoints, resources,
metric names, an SLO with two latency objectives, autoscaling and a
business metric; the alerting has four receivers and per-severity routes.
Ports repeat every 40,000 services (there are 65,535): a larger spec is
refused for its port conflicts, after every check has run.
"""
import sys

n = int(sys.argv[1])
out = [
    '[project]',
    'name = "bench"',
    'environment = "production"',
    'regions = ["fra1", "nyc1"]',
    'runbook_url = "https://runbooks.example.com"',
    '',
    '[monitoring]',
    'scrape_interval = "15s"',
    'evaluation_interval = "15s"',
]
for i in range(n):
    name = f"svc-{i:04d}"
    out += [
        '',
        '[[service]]',
        f'name = "{name}"',
        f'image = "registry.digitalocean.com/bench/{name}:1.0.0"',
        f'port = {20000 + i % 40000}',
        'team = "backend"',
        'endpoints = { health = "/health", liveness = "/liveness", readiness = "/readiness", metrics = "/metrics" }',
        'resources = { cpu = "500m", memory = "512Mi" }',
        'metrics = { requests = "http_requests_total", duration = "http_request_duration_seconds", status_label = "status", buckets = [0.1, 0.25, 0.5, 1, 1.5, 2.5, 5] }',
        '',
        '[[service.slo]]',
        'name = "availability"',
        'objective = "99.9%"',
        'availability = {}',
        '',
        '[[service.slo]]',
        'name = "latency"',
        'objective = "95%"',
        'latency = { threshold = "500ms" }',
        '',
        '[[service.slo]]',
        'name = "latency-tail"',
        'objective = "99%"',
        'latency = { threshold = "1500ms" }',
        '',
        '[service.alerts]',
        'error_rate_5xx = { threshold = "1%" }',
        '',
        '[service.autoscaling]',
        'min_replicas = 2',
        'max_replicas = 20',
        'cpu_percent = 80',
        'memory_percent = 75',
        '',
        '[[service.business_metric]]',
        'name = "orders-per-minute"',
        'expr = "sum(rate(orders_total[5m])) * 60"',
    ]
out += [
    '',
    '[[alerting.receiver]]',
    'name = "oncall"',
    'type = "pagerduty"',
    'routing_key = { env = "PAGERDUTY_ROUTING_KEY" }',
    '',
    '[[alerting.receiver]]',
    'name = "team-slack"',
    'type = "slack"',
    'channel = "#alerts"',
    'webhook_url = { env = "SLACK_WEBHOOK_URL" }',
    '',
    '[[alerting.receiver]]',
    'name = "team-email"',
    'type = "email"',
    'to = "ops@example.com"',
    'from = "alerts@example.com"',
    'smarthost = "smtp.example.com:587"',
    'password = { env = "SMTP_PASSWORD" }',
    '',
    '[[alerting.route]]',
    'severity = "critical"',
    'receivers = ["oncall", "team-slack"]',
    '',
    '[[alerting.route]]',
    'severity = "warning"',
    'receivers = ["team-slack", "team-email"]',
    '',
    '[platform.compose]',
    '[platform.kubernetes]',
    '[platform.digitalocean]',
    'instance_size = "apps-d-1vcpu-1gb"',
    'metrics = "otlp"',
    'otlp_endpoint = "https://metrics.example.com/api/v1/otlp/v1/metrics"',
]
print("\n".join(out))
