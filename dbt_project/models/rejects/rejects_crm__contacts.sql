{#- Rows of crm.contacts that were not staged, with the reason (one layout for every entity). -#}
{{ rejects_of('crm.contacts', 'contact_id', base=ref('base_crm__contacts'), load_rejects=source('crm', 'contacts_rejected')) }}
