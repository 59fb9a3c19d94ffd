"""How the dashboards name a stage: its moment code and name ("FMOT · First impression"), or
a custom stage's name alone."""

from __future__ import annotations


def stage_label(moment: str, name: str) -> str:
    return f"{moment} · {name}" if moment else name
