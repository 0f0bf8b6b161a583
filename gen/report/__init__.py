"""How judgements read: text, json and markdown for verify and guard."""
