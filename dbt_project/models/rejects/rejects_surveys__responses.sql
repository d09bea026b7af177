{#- Rows of surveys.responses that were not staged, with the reason (one layout for every entity). -#}
{{ rejects_of('surveys.responses', 'response_id', load_rejects=source('surveys', 'responses_rejected')) }}
