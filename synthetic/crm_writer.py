"""Projecting the simulated CRM to an as-of moment and writing HubSpot-shaped JSONL with DuckDB."""

from __future__ import annotations

from pathlib import Path

import duckdb

SQL_MACROS = """
create or replace macro iso(ms) as
    case when ms is null or ms >= 9000000000000000000 then null
         else strftime(make_timestamp(ms * 1000), '%Y-%m-%dT%H:%M:%S.%gZ') end;
create or replace macro money(c) as printf('%d.%02d', c // 100, c % 100);
create or replace macro upto(ms, t) as case when ms <= t then ms end;
create or replace macro assoc(id, kind) as
    case when id is null or id = 0 then []::struct(id varchar, "type" varchar)[]
         else [{'id': cast(id as varchar), 'type': kind}] end;
create or replace macro pick(lst, i) as lst[1 + (i % len(lst))];
create or replace macro engagement_associations(kind, contact_id, company_id, deal_id) as
    {'contacts': {'results': assoc(contact_id, kind || '_to_contact')},
     'companies': {'results': assoc(company_id, kind || '_to_company')},
     'deals': {'results': assoc(deal_id, kind || '_to_deal')}};
"""

ADJECTIVES = [
    "Blue",
    "North",
    "Bright",
    "Summit",
    "Iron",
    "Silver",
    "Green",
    "Rapid",
    "Prime",
    "Clear",
    "Atlas",
    "Nova",
    "Granite",
    "Harbor",
    "Vertex",
    "Cedar",
    "Apex",
    "Lumen",
    "Orbit",
    "Delta",
]
NOUNS = [
    "Labs",
    "Logistics",
    "Foods",
    "Systems",
    "Health",
    "Energy",
    "Capital",
    "Retail",
    "Media",
    "Robotics",
    "Software",
    "Textiles",
    "Analytics",
    "Motors",
    "Pharma",
    "Networks",
    "Studios",
    "Freight",
    "Dynamics",
    "Works",
]
INDUSTRIES = ["Software", "Manufacturing", "Retail", "Healthcare", "Financial Services", "Logistics", "Media", "Energy"]
CITIES = {
    "NA-EAST": "Boston",
    "NA-WEST": "Seattle",
    "NA-CENTRAL": "Dallas",
    "EMEA-UKI": "Manchester",
    "EMEA-DACH": "Berlin",
    "EMEA-FRANCE": "Lyon",
    "APAC-ANZ": "Melbourne",
    "APAC-JAPAN": "Osaka",
}


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def object_queries(first_names: list[str], last_names: list[str]) -> dict[str, str]:
    """SELECT statements producing one HubSpot record per row as of ``$t`` changed after ``$since``."""
    adjectives, nouns, industries = _sql_list(ADJECTIVES), _sql_list(NOUNS), _sql_list(INDUSTRIES)
    firsts, lasts = _sql_list(first_names), _sql_list(last_names)
    cities = "map {" + ", ".join(f"'{k}': '{v}'" for k, v in CITIES.items()) + "}"
    company_name = f"pick({adjectives}, company_id) || ' ' || pick({nouns}, company_id // 20)"
    return {
        "companies": f"""
            select cast(company_id as varchar) as id,
                {{'name': {company_name}, 'domain': lower(replace({company_name}, ' ', '')) || '.example',
                  'industry': pick({industries}, company_id // 7), 'country': country, 'city': {cities}[territory_code],
                  'numberofemployees': cast(employees as varchar), 'annualrevenue': money(revenue_cents),
                  'hubspot_owner_id': cast(owner_id as varchar), 'createdate': iso(created_ms),
                  'hs_lastmodifieddate': iso(created_ms)}} as properties,
                iso(created_ms) as createdAt, iso(created_ms) as updatedAt, false as archived, null as archivedAt
            from companies where created_ms <= $t and created_ms > $since order by company_id""",
        "contacts": f"""
            with c as (
                select *, greatest(created_ms, coalesce(upto(mql_ms, $t), 0), coalesce(upto(sql_ms, $t), 0),
                    coalesce(upto(opportunity_ms, $t), 0), coalesce(upto(customer_ms, $t), 0)) as updated_ms
                from contacts where created_ms <= $t)
            select cast(contact_id as varchar) as id,
                {{'email': lower(pick({firsts}, contact_id) || '.' || pick({lasts}, contact_id // 61)) || '.'
                           || cast(contact_id % 997 as varchar) || '@' || lower(pick({nouns}, company_id // 20)) || '.example',
                  'firstname': pick({firsts}, contact_id), 'lastname': pick({lasts}, contact_id // 61),
                  'jobtitle': pick(['Head of Operations', 'CFO', 'IT Director', 'VP Sales', 'Procurement Manager'], contact_id),
                  'lifecyclestage': case when customer_ms <= $t then 'customer'
                                          when opportunity_ms <= $t then 'opportunity'
                                          when sql_ms <= $t then 'salesqualifiedlead'
                                          when mql_ms <= $t then 'marketingqualifiedlead' else 'lead' end,
                  'hs_lead_status': case when opportunity_ms <= $t then 'CONNECTED' when mql_ms <= $t then 'IN_PROGRESS'
                                         else 'NEW' end,
                  'hubspot_owner_id': cast(owner_id as varchar), 'createdate': iso(created_ms),
                  'lastmodifieddate': iso(updated_ms), 'hs_lifecyclestage_lead_date': iso(created_ms),
                  'hs_lifecyclestage_marketingqualifiedlead_date': iso(upto(mql_ms, $t)),
                  'hs_lifecyclestage_salesqualifiedlead_date': iso(upto(sql_ms, $t)),
                  'hs_lifecyclestage_opportunity_date': iso(upto(opportunity_ms, $t)),
                  'hs_lifecyclestage_customer_date': iso(upto(customer_ms, $t))}} as properties,
                iso(created_ms) as createdAt, iso(updated_ms) as updatedAt, false as archived, null as archivedAt,
                {{'companies': {{'results': assoc(company_id, 'contact_to_company')}}}} as associations
            from c where updated_ms > $since order by contact_id""",
        "deals": f"""
            with h as (
                select deal_id,
                    list({{'value': stage_id, 'timestamp': iso(t_ms), 'sourceType': 'CRM_UI',
                           'sourceId': 'userId:' || cast(source_user as varchar)}} order by t_ms desc, stage_id desc) as hist,
                    max(t_ms) as last_change,
                    min(case when stage_id in ('closedwon', 'closedlost', 'renewal_won', 'renewal_lost') then t_ms end)
                        as first_close
                from history where t_ms <= $t group by deal_id),
            d as (
                select deals.*, h.hist, h.hist[1].value as stage, h.first_close,
                    greatest(created_ms, h.last_change, coalesce(upto(revision_ms, $t), 0),
                             coalesce(upto(owner_change_ms, $t), 0), coalesce(upto(archived_ms, $t), 0)) as updated_ms
                from deals join h using (deal_id) where created_ms <= $t)
            select cast(deal_id as varchar) as id,
                {{'dealname': {company_name.replace("company_id", "d.company_id")}
                              || case when is_renewal then ' - Renewal' else ' - New business' end,
                  'pipeline': case when is_renewal then 'renewals' else 'default' end,
                  'dealstage': stage,
                  'amount': money(case when revision_ms <= $t then amount_final_cents else amount_cents end),
                  'deal_currency_code': currency,
                  'closedate': iso(coalesce(first_close, expected_close_ms)),
                  'createdate': iso(created_ms), 'hs_lastmodifieddate': iso(updated_ms),
                  'hubspot_owner_id': cast(case when owner_change_ms <= $t then new_owner_id else owner_id end as varchar),
                  'dealtype': case when is_renewal then 'existingbusiness' else 'newbusiness' end,
                  'closed_lost_reason': case when stage = 'closedlost' and cancelled then 'Cancelled after signature'
                                             when stage in ('closedlost', 'renewal_lost') then lost_reason end,
                  'hs_num_of_associated_line_items': cast(1 + deal_id % 3 as varchar),
                  'contract_term_months': cast(term_months as varchar)}} as properties,
                iso(created_ms) as createdAt, iso(updated_ms) as updatedAt,
                archived_ms <= $t as archived, iso(upto(archived_ms, $t)) as archivedAt,
                {{'companies': {{'results': assoc(d.company_id, 'deal_to_company')}},
                  'contacts': {{'results': assoc(contact_id, 'deal_to_contact')}}}} as associations,
                {{'dealstage': hist}} as propertiesWithHistory
            from d where updated_ms > $since order by deal_id""",
        "calls": """
            select cast(id as varchar) as id,
                {'hs_timestamp': iso(ts_ms),
                 'hs_call_title': 'Call',
                 'hs_call_direction': case when not first_touch and variant > 0.92 then 'INBOUND' else 'OUTBOUND' end,
                 'hs_call_duration': cast(case when variant < 0.35 then duration_ms
                                               when variant < 0.60 then 20000 + duration_ms % 40000
                                               when variant < 0.63 then 15000 + duration_ms % 30000
                                               when variant < 0.65 then 5000 + duration_ms % 10000 else 0 end as varchar),
                 'hs_call_disposition': case when variant < 0.35 then 'f240bbac-87c9-4f6e-bf70-924b57d47db7'
                                             when variant < 0.60 then 'b2cf5968-551e-4856-9783-52b3da59a7d0'
                                             when variant < 0.63 then 'a4c4c377-d246-4b32-a13b-75a56a4cd0ff'
                                             when variant < 0.65 then '17b47fee-58de-441e-a44c-c6300d46f273'
                                             when variant < 0.70 then '9d9162e7-6cf3-4944-bf63-4dff82258764'
                                             else '73a0d17f-1163-4015-bdd5-ec830791da20' end,
                 'hs_call_status': case when variant < 0.63 then 'COMPLETED' when variant < 0.65 then 'FAILED'
                                        when variant < 0.70 then 'BUSY' else 'NO_ANSWER' end,
                 'hubspot_owner_id': cast(owner_id as varchar), 'hs_createdate': iso(ts_ms + 1000),
                 'hs_lastmodifieddate': iso(ts_ms + 1000)} as properties,
                iso(ts_ms + 1000) as createdAt, iso(ts_ms + 1000) as updatedAt, false as archived, null as archivedAt,
                engagement_associations('call', contact_id, company_id, deal_id) as associations
            from calls where ts_ms + 1000 <= $t and ts_ms + 1000 > $since order by id""",
        "emails": """
            select cast(id as varchar) as id,
                {'hs_timestamp': iso(ts_ms),
                 'hs_email_direction': case when first_touch or variant < 0.72 then 'EMAIL'
                                            when variant < 0.97 then 'INCOMING_EMAIL' else 'FORWARDED_EMAIL' end,
                 'hs_email_status': case when (variant * 1000) % 1 < 0.03 then 'BOUNCED' else 'SENT' end,
                 'hs_email_subject': pick(['Quick question', 'Following up', 'Proposal', 'Next steps', 'Intro'], id),
                 'hubspot_owner_id': cast(owner_id as varchar), 'hs_createdate': iso(ts_ms + 1000),
                 'hs_lastmodifieddate': iso(ts_ms + 1000)} as properties,
                iso(ts_ms + 1000) as createdAt, iso(ts_ms + 1000) as updatedAt, false as archived, null as archivedAt,
                engagement_associations('email', contact_id, company_id, deal_id) as associations
            from emails where ts_ms + 1000 <= $t and ts_ms + 1000 > $since order by id""",
        "meetings": """
            select cast(id as varchar) as id,
                {'hs_timestamp': iso(ts_ms), 'hs_meeting_title': 'Meeting',
                 'hs_meeting_start_time': iso(ts_ms),
                 'hs_meeting_end_time': iso(ts_ms + (30 + 15 * (id % 3)) * 60000),
                 'hs_meeting_outcome': case when variant < 0.75 then 'COMPLETED' when variant < 0.83 then 'NO_SHOW'
                                            when variant < 0.90 then 'RESCHEDULED' when variant < 0.95 then 'CANCELED'
                                            else 'SCHEDULED' end,
                 'hubspot_owner_id': cast(owner_id as varchar), 'hs_createdate': iso(ts_ms + 1000),
                 'hs_lastmodifieddate': iso(ts_ms + 1000)} as properties,
                iso(ts_ms + 1000) as createdAt, iso(ts_ms + 1000) as updatedAt, false as archived, null as archivedAt,
                engagement_associations('meeting', contact_id, company_id, deal_id) as associations
            from meetings where ts_ms + 1000 <= $t and ts_ms + 1000 > $since order by id""",
    }


def copy_in_parts(
    connection: duckdb.DuckDBPyConnection, sql: str, params: dict, folder: Path, batch: str, part_rows: int
) -> dict[str, int]:
    """Write a query's rows as JSONL parts of at most ``part_rows`` rows; return file -> rows."""
    connection.execute(f"create or replace temp table projected as {sql}", params)
    total = connection.execute("select count(*) from projected").fetchone()[0]
    written: dict[str, int] = {}
    if total == 0:
        return written
    folder.mkdir(parents=True, exist_ok=True)
    for part, offset in enumerate(range(0, total, part_rows)):
        path = folder / f"{batch}-{part:04d}.jsonl"
        connection.execute(
            f"copy (select * from projected limit {part_rows} offset {offset}) to '{path}' (format json)"
        )
        written[path.name] = min(part_rows, total - offset)
    connection.execute("drop table projected")
    return written
