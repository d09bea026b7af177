{#- Rows of crm.deals that were not staged, with the reason (one layout for every entity). -#}
{{ rejects_of('crm.deals', 'deal_id', base=ref('base_crm__deals'), load_rejects=source('crm', 'deals_rejected')) }}
