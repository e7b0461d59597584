"""Customer support with procedural memory: rules a customer states once apply to every ticket.

Each ticket is a thread. In the first, the customer asks the agent to always confirm before
any change to their account; the pipeline stores that as a procedural memory, which belongs
to the customer rather than to the ticket. When a new ticket opens, the agent reads the
memories for that ticket: the new ticket's facts and the customer's procedural and episodic
memories from every earlier ticket, plus the customer profile.

    python Samples/customer_support.py [--path FILE]

Needs a model for the pipeline (AI_FOUNDRY_ENDPOINT or OPENAI_API_KEY / OPENAI_BASE_URL);
without one it stores the rule directly with ``add_memory`` and shows the same lookup.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from agent_memory import MemoryClient

CUSTOMER = "alex-chen"
TICKETS = {
    "ticket-1": [
        ("user", "My Surface Pro 9 battery drains in three hours; I bought it in March 2024."),
        ("assistant", "It is under warranty. Please run the battery diagnostic."),
        ("user", "Please always confirm with me before changing anything on my account."),
    ],
    "ticket-2": [
        ("user", "The diagnostic says the battery is degraded."),
        ("assistant", "We will ship a replacement battery unit."),
        ("user", "Last time the courier left it outside; the locker delivery worked better."),
    ],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--path", type=Path, help="store file (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.path or Path(tmp) / "memory.db"
        with MemoryClient(path=path) as memory:
            for ticket, dialogue in TICKETS.items():
                memory.add_turns(CUSTOMER, ticket, [{"role": r, "content": c} for r, c in dialogue])
            if memory.ai is not None:
                report = memory.process_now(CUSTOMER)
                created = sum(r.created for r in report.extracted.values())
                print(f"the pipeline extracted {created} memories from {len(TICKETS)} tickets")
            else:
                print("no model configured: storing the customer's rule directly")
                memory.add_memory(
                    CUSTOMER,
                    "ticket-1",
                    "Confirm with Alex before changing anything on the account.",
                    type="procedural",
                )

            print("\nnew ticket-3 opens; the agent loads what applies to it:")
            for m in memory.get_memories(CUSTOMER, thread_id="ticket-3"):
                print(f"  [{m.type}] {m.content}  (from {m.thread_id})")
            profile = memory.get_user_summary(CUSTOMER)
            if profile is not None:
                print(f"  profile: {profile.content}")
            rules = memory.get_memories(CUSTOMER, memory_types=["procedural"])
            print(f"\n{len(rules)} standing rule(s) for every ticket of {CUSTOMER}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
