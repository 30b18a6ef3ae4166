-- Name this session: the refresh lease knows a live holder by its application_name.
select set_config('application_name', %(name)s, false)
