"""The structuring service: notes in, a validated CaseStudy out, streamed as its fields complete."""
