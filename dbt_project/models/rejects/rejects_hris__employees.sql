{#- Rows of hris.employees that were not staged, with the reason (one layout for every entity). -#}
{{ rejects_of('hris.employees', 'employee_id', base=ref('base_hris__employees')) }}
