"""Queries the ORM writes once per process, for the page a crowd of readers asks for.

A story's first page is rendered again after every change, from the same queries with
new values (the story's slug, its id, the time). Building those QuerySets and compiling
them cost the ORM more than PostgreSQL took to answer them. A ``PreparedQuery`` has the
ORM write its SQL the first time, from the same QuerySet methods every other view uses
(so ``public()`` stays the one visibility rule), with a ``Param`` in place of each value
that changes; afterwards it sends that SQL with the new values.

A query's SQL is kept for each shape its build function is asked for (a page size,
whether a pinned entry is left out), so a setting changed by a test or a story with a
pinned entry gets SQL of its own, never another shape's.
"""

from django.db import connection, models


class Param(models.Expression):
    """A value the query is sent each time it runs (``rows(..., name=value)``), turned
    into what the database takes by ``output_field``, as the ORM would turn it."""

    def __init__(self, name, output_field):
        super().__init__(output_field=output_field)
        self.name = name

    def as_sql(self, compiler, connection):
        return "%s", [self]


class PreparedQuery:
    def __init__(self, build):
        """``build(*shape)`` returns the QuerySet (of ``values_list`` or of model
        instances), with ``Param`` for the values that change from one run to the next."""
        self.build = build
        self._compiled = {}

    def rows(self, *shape, **values):
        """The rows of ``build(*shape)`` with its Params set from ``values``: tuples in
        its columns' order, read as the ORM reads them (its converters applied)."""
        sql, params, converters, _model, _names = self._compile(shape)
        params = [
            p.output_field.get_db_prep_value(values[p.name], connection)
            if isinstance(p, Param)
            else p
            for p in params
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            result = cursor.fetchall()
        if not converters:
            return result
        return [self._convert(row, converters) for row in result]

    def instances(self, *shape, **values):
        """``rows`` of a QuerySet of model instances, as the instances."""
        _sql, _params, _converters, model, names = self._compile(shape)
        return [model.from_db(connection.alias, names, row) for row in self.rows(*shape, **values)]

    def _compile(self, shape):
        key = (connection.vendor, shape)
        compiled = self._compiled.get(key)
        if compiled is None:
            queryset = self.build(*shape)
            compiler = queryset.query.get_compiler(connection=connection)
            sql, params = compiler.as_sql()
            # compiler.select is what as_sql chose to read, in its order.
            columns = [column for column, _sql, _alias in compiler.select]
            converters = tuple(compiler.get_converters(columns).items())
            names = [getattr(column, "target", None) for column in columns]
            names = [target.attname if target else None for target in names]
            compiled = self._compiled[key] = (sql, params, converters, queryset.model, names)
        return compiled

    @staticmethod
    def _convert(row, converters):
        row = list(row)
        for position, (functions, expression) in converters:
            for convert in functions:
                row[position] = convert(row[position], expression, connection)
        return tuple(row)
