"""Fraud and abuse campaigns, one module per kind, planned together by :mod:`.plan`.

Each kind module documents its modus operandi and the signal it leaves; every one builds its
rows from the shared population (``entities.Roles`` says who the farm devices, fraud IPs, mules,
abusers and colluding merchants are) so that campaigns overlap with legitimate traffic on the
same cards, IPs and merchants, as in a real bank.
"""

from __future__ import annotations

from world_engine.campaigns.plan import CampaignPlan, campaign_budgets, plan_campaigns

__all__ = ["CampaignPlan", "campaign_budgets", "plan_campaigns"]
