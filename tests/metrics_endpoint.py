"""/metrics read as Prometheus reads it: the real endpoint (`bot.runtime.build_web_app`) served on an ephemeral port,
fetched over HTTP and parsed with prometheus_client's own parser."""

from __future__ import annotations

import aiohttp
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from bot.runtime import build_web_app


class MetricsEndpoint:
    async def __aenter__(self) -> MetricsEndpoint:
        self._runner = web.AppRunner(build_web_app())
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/metrics"
        self._http = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc) -> None:
        await self._http.close()
        await self._runner.cleanup()

    async def sample(self, name: str, **labels: str) -> float | None:
        """The value of the series `name{labels}`, or None when /metrics has no such series."""
        async with self._http.get(self.url) as response:
            assert response.status == 200
            text = await response.text()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and sample.labels == labels:
                    return sample.value
        return None
