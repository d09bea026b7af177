{#- Rows of crm.emails that were not staged, with the reason (one layout for every entity). -#}
{{ rejects_of('crm.emails', 'email_id', base=ref('base_crm__emails'), load_rejects=source('crm', 'emails_rejected')) }}
