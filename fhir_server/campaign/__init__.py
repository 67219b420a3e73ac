"""The electronic health book's campaign loop on QuestionnaireResponses (issue 14, points 7-8):
post-vaccination reaction reports (reactions.py) and health declarations (declarations.py),
run by the QuestionnaireResponse write rule (rules.py) whatever the door."""
