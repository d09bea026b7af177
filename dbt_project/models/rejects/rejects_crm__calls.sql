{#- Rows of crm.calls that were not staged, with the reason (one layout for every entity). -#}
{{ rejects_of('crm.calls', 'call_id', base=ref('base_crm__calls'), load_rejects=source('crm', 'calls_rejected')) }}
