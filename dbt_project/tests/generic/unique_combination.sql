{#
  Grain test: no two rows of `model` share every one of `columns`. Grouping compares the
  columns themselves (nulls equal, as in a grain), where a concatenated key could make two
  different rows look alike. Returns the keys found more than once.
#}
{% test unique_combination(model, columns) %}

select
    {{ columns | join(',\n    ') }},
    count(*) as rows_with_this_key
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
