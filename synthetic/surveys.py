"""Monthly pulse surveys: who was asked, who answered, and scores that follow performance and
foreshadow attrition. Vectorised per survey wave."""

from __future__ import annotations

import datetime as dt

import numpy as np

from synthetic.config import DAY_MS, SIMULATION_END, ScaleConfig, epoch_ms
from synthetic.org import Organisation

ENPS_TEXT = "How likely are you to recommend this company as a place to work?"
QUESTIONS = [
    ("enps", ENPS_TEXT, "score_0_10"),
    ("manager_support", "How well does your manager support you?", "score_0_10"),
    ("workload", "How manageable is your workload?", "score_0_10"),
    ("growth", "How do you rate your opportunities to grow here?", "score_0_10"),
    ("recognition", "How recognised do you feel for your work?", "score_0_10"),
    ("comment", "Anything you would like to share?", "text"),
]
COMMENTS = [
    "More enablement please",
    "Great team spirit",
    "Territory split feels unfair",
    "Love the new CRM",
    "Quota is too high",
    "Manager is very supportive",
    "Too many internal meetings",
]


def simulate_surveys(cfg: ScaleConfig, org: Organisation, rng: np.random.Generator) -> dict[str, list]:
    """Every survey wave with its responses and answers (times in epoch ms)."""
    people = sorted(org.people, key=lambda p: p.employee_id)
    ids = np.array([p.employee_id for p in people])
    hire = np.array([p.hire.toordinal() for p in people])
    term = np.array([(p.term.toordinal() if p.term else 10**7) for p in people])
    engagement = np.array([p.engagement for p in people])
    skill = np.array([np.log(p.skill) for p in people])
    surveys, responses, answers = [], [], []
    month = cfg.start
    response_id = answer_id = 0
    while month <= SIMULATION_END:
        send = month + dt.timedelta(days=(7 - month.weekday()) % 7)
        sent_ms = epoch_ms(send, 9)
        survey_id = f"PULSE-{send:%Y-%m}"
        audience = np.flatnonzero((hire <= send.toordinal()) & (term > send.toordinal()))
        surveys.append(
            {
                "survey_id": survey_id,
                "name": f"{send:%B %Y} pulse",
                "sent_ms": sent_ms,
                "closes_ms": sent_ms + 7 * DAY_MS,
                "audience_size": len(audience),
            }
        )
        p_respond = np.clip(0.74 + 0.08 * engagement[audience], 0.35, 0.97)
        respondents = audience[rng.random(len(audience)) < p_respond]
        leaving_soon = (term[respondents] - send.toordinal()) < 120
        mood = 7.6 + 0.9 * engagement[respondents] + 1.3 * skill[respondents] - 2.6 * leaving_soon
        submitted = sent_ms + np.minimum(rng.exponential(1.5, len(respondents)), 6.9) * DAY_MS
        for k, employee in enumerate(respondents):
            response_id += 1
            responses.append(
                {
                    "response_id": f"R{response_id:08d}",
                    "survey_id": survey_id,
                    "employee_id": int(ids[employee]),
                    "submitted_ms": int(submitted[k]),
                }
            )
        n = len(respondents)
        for question_id, text, kind in QUESTIONS:
            if kind == "text":
                has_comment = rng.random(n) < 0.25
                picks = rng.integers(0, len(COMMENTS), n)
            else:
                scores = np.clip(np.rint(mood + rng.normal(0, 1.6, n) + (0.4 if question_id != "enps" else 0)), 0, 10)
                # a few respondents are very unhappy whatever the team: the whole 0-10 scale is used
                scores = np.where(rng.random(n) < 0.03, rng.integers(0, 3, n), scores)
            for k in range(n):
                if kind == "text" and not has_comment[k]:
                    continue
                answer_id += 1
                answers.append(
                    {
                        "answer_id": f"A{answer_id:09d}",
                        "response_id": responses[len(responses) - n + k]["response_id"],
                        "survey_id": survey_id,
                        "question_id": question_id,
                        "question_text": text,
                        "score": None if kind == "text" else int(scores[k]),
                        "text": COMMENTS[picks[k]] if kind == "text" else None,
                        "submitted_ms": int(submitted[k]),
                    }
                )
        month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return {"surveys": surveys, "responses": responses, "answers": answers}
