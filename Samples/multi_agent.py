"""Multi-agent shared memory: a planner and a researcher work in one shared thread.

Both agents write to the same user's thread and say who they are in each turn's metadata
(``{"agent": "planner"}``); each reads the other's contributions with ``get_turns`` and
finds earlier findings with ``search``. Memory is partitioned by user: agents that serve the
same user share it, agents of another user never see it.

    python Samples/multi_agent.py [--path FILE]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from agent_memory import MemoryClient, Turn

USER, THREAD = "fleet-team", "ev-vs-hydrogen"


def by_agent(turns: list[Turn], agent: str) -> list[Turn]:
    return [t for t in turns if t.metadata.get("agent") == agent]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--path", type=Path, help="store file (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.path or Path(tmp) / "memory.db"
        planner = MemoryClient(path=path)  # two agents, two clients, one store
        researcher = MemoryClient(path=path)
        try:
            planner.add(
                USER,
                THREAD,
                "user",
                "Compare electric and hydrogen vans for our city delivery fleet.",
            )
            plan = ["manufacturing emissions", "energy efficiency", "battery recycling"]
            for step in plan:
                planner.add(
                    USER,
                    THREAD,
                    "assistant",
                    f"Research task: {step}.",
                    metadata={"agent": "planner"},
                )

            tasks = by_agent(researcher.get_turns(USER, THREAD), "planner")
            print(f"researcher sees {len(tasks)} tasks from the planner")
            findings = {
                "manufacturing emissions": "Battery packs emit about 8 t CO2 per 60 kWh made.",
                "energy efficiency": "Battery vans use about three times less energy per km.",
                "battery recycling": "Recycling recovers about 95% of battery cobalt and nickel.",
            }
            for task in tasks:
                topic = task.content.removeprefix("Research task: ").removesuffix(".")
                researcher.add(
                    USER,
                    THREAD,
                    "assistant",
                    f"Finding on {topic}: {findings[topic]}",
                    metadata={"agent": "researcher"},
                )

            shared = planner.get_turns(USER, THREAD)
            print(f"planner reads {len(by_agent(shared, 'researcher'))} findings")
            for hit in planner.search(USER, "energy use per km", include_turns=True, top=2):
                print(f"  planner finds: {hit.content}")
            planner.add(
                USER,
                THREAD,
                "assistant",
                "Recommendation: electric vans for the city fleet.",
                metadata={"agent": "planner"},
            )
            print("\nthe shared thread:")
            for turn in planner.get_turns(USER, THREAD):
                print(f"  {turn.metadata.get('agent', turn.role):<10} {turn.content}")
            print(f"\nanother user's agents see: {planner.get_turns('other-team', THREAD)}")
        finally:
            planner.close()
            researcher.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
