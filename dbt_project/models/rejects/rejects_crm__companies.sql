{#- Rows of crm.companies that were not staged, with the reason (one layout for every entity). -#}
{{ rejects_of('crm.companies', 'company_id', base=ref('base_crm__companies'), load_rejects=source('crm', 'companies_rejected')) }}
