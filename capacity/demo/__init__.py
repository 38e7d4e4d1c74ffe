"""The bundled LifeVerse demo fleet: a deterministic, physically plausible generator.

:func:`generate_demo` writes five files that together look like the inputs of a real
capacity review: hourly telemetry (Parquet, long format), the live-ops calendar, the fleet
configuration, an incident log and a deploy log. Every number comes from a small simulation
whose true parameters are published as :data:`TRUTH`, so tests can check that what the package
learns (the safe load per server above all) recovers what the generator put in.

The simulation, per hour:

1. players per region = base level x yearly growth x daily cycle (local time) x weekday
   factor x live-ops events x AR(1) log-noise;
2. per service, ``ccu`` = a share of the region's players and ``rps`` = ``ccu`` x requests
   per player per second; the service's load is its demand metric (game: ``ccu``,
   matchmaking and chat: ``rps``);
3. an autoscaler sets integer ``servers`` from the load it saw two hours earlier, aiming at
   70 % of the safe load per server, scaling out at once and in slowly;
4. utilisation ``u`` = load per server / saturation load, and from it
   ``latency_p99_ms`` = L0 + L1 * u / (1 - u) (with log-normal noise), ``cpu_util`` and
   ``error_rate``.

Because the autoscaler lags, fast ramps (season launches, esports finals) push the load per
server past the safe load and the latency SLO is breached for a few hours; that is what lets a
learner see the whole latency curve.

The work is done in one module per part of the simulation; everything is imported from
``capacity.demo``:

- ``truth``: :class:`Truth` and :data:`TRUTH`, the true parameters, and the sorted names;
- ``events``: the live-ops calendar (seasons, festivals, maintenance, holidays, the outage);
- ``holidays``: the hard-coded public holidays of the regions' countries;
- ``demand``: players per region and each service's ``ccu`` and ``rps`` (step 1 and 2);
- ``telemetry``: the autoscaler, latency, CPU and errors (steps 3 and 4), missing rows;
- ``logs``: the deploy and incident logs;
- ``writers``: the Parquet telemetry and the CSV calendar and logs;
- ``fleet_yaml``: the fleet configuration;
- ``generate``: :func:`generate_demo`, which runs the parts in a fixed order on one random
  generator, and :func:`build_demo_store`.

The parts import one way (``truth`` at the bottom, ``generate`` at the top) and never the
names of this package.
"""

from __future__ import annotations

from capacity.demo import demand, events
from capacity.demo.generate import build_demo_store, generate_demo
from capacity.demo.truth import TRUTH, RegionTruth, ServiceTruth, Truth

__all__ = ["TRUTH", "RegionTruth", "ServiceTruth", "Truth", "build_demo_store", "generate_demo"]

# The calendar and the demand multiplier of a list of events, by the names they had when the
# demo was one module (tests check every calendar event shapes demand through them).
_calendar = events.calendar
_event_multiplier = demand.event_multiplier
