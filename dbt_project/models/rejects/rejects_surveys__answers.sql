{#- Rows of surveys.answers that were not staged, with the reason (one layout for every entity). -#}
{{ rejects_of('surveys.answers', 'answer_id', base=ref('base_surveys__answers'), load_rejects=source('surveys', 'answers_rejected')) }}
