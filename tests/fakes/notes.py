"""Consultant notes the fakes' answers are built from (through the local extractor)."""

NOTES = """# Northwind Logistics: dispatch automation

Client: Northwind Logistics, a regional freight and logistics company.

## Challenge
Dispatchers planned every route by hand in spreadsheets, and late deliveries kept climbing.

## What we did
We built a routing engine that plans the day's routes and lets dispatchers adjust them.

## Results
- Average dispatch planning time: 94 min -> 31 min
- Late deliveries went from 18% to 7%

## Timeline
1. Discovery (Weeks 1-2): interviewed dispatchers and mapped the planning process.
2. Build (Weeks 3-8): built the routing engine and the dispatcher screen.
3. Rollout (Weeks 9-10): trained every depot and switched over.

"We plan the day before the first coffee now." - Dana Ruiz, VP Operations
"""
