{#- Rows of crm.meetings that were not staged, with the reason (one layout for every entity). -#}
{{ rejects_of('crm.meetings', 'meeting_id', base=ref('base_crm__meetings'), load_rejects=source('crm', 'meetings_rejected')) }}
