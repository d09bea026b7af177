{#- Rows of crm.owners that were not staged, with the reason (one layout for every entity). -#}
{{ rejects_of('crm.owners', 'owner_id', load_rejects=source('crm', 'owners_rejected')) }}
