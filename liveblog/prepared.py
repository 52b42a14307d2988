"""Queries the ORM writes once per process, for the page a crowd of readers asks for.

A story's first page is rendered again after every change, from the same queries with
new values (the story's slug, its id, the time). Building those QuerySets and compiling
them cost the ORM more than PostgreSQL took to answer them. A ``PreparedQuery`` has the
ORM write its SQL the first time, from the same QuerySet methods every other view uses
(so ``public()`` stays the one visibility rule), with a ``Param`` in place of each value
that changes; afterwards it sends that SQL with the new values.
"""

from typing import NamedTuple

from django.db import connection, models


class Param(models.Expression):
    """A value the query is sent each time it runs (``rows(..., name=value)``), turned
    into what the database takes by ``output_field.get_db_prep_value``.

    Never None: the ORM writes ``IS NULL`` for None (or leaves an ``exclude`` out), but
    SQL written once says ``= %s``, which NULL never matches. A query that may need
    either has two shapes."""

    def __init__(self, name, output_field):
        super().__init__(output_field=output_field)
        self.name = name

    def as_sql(self, compiler, connection):
        return "%s", [self]


class _Compiled(NamedTuple):
    sql: str
    params: list  # values, and a Param for each value sent at each run
    names: frozenset  # of those Params
    converters: tuple  # (column, (functions, expression)), as the ORM's compiler has them
    model: type
    fields: list  # the attribute each column sets, for ``instances``
    of_instances: bool  # a QuerySet of whole model instances, nothing joined or added


class PreparedQuery:
    """A QuerySet's SQL, written once per process for each shape and run with new values.

    ``build(*shape)`` returns the QuerySet, with a ``Param`` for each value that changes
    from one run to the next. What changes the SQL itself (a page size, whether an entry
    is left out) is the shape, and each shape gets SQL of its own. It runs on the default
    database, as the views that use it do.
    """

    def __init__(self, build):
        self.build = build
        self._compiled = {}

    def rows(self, *shape, **values):
        """The rows of ``build(*shape)``, each of its Params set from ``values`` (all of
        them, and nothing else): tuples in its columns' order, read with the ORM's
        converters."""
        return self._run(self._compile(shape), values)

    def instances(self, *shape, **values):
        """``rows`` of a QuerySet of model instances, as those instances."""
        compiled = self._compile(shape)
        if not compiled.of_instances:
            raise TypeError("instances() reads a QuerySet of whole model instances")
        rows = self._run(compiled, values)
        return [compiled.model.from_db(connection.alias, compiled.fields, row) for row in rows]

    def _compile(self, shape):
        key = (connection.vendor, shape)
        compiled = self._compiled.get(key)
        if compiled is None:
            queryset = self.build(*shape)
            query = queryset.query
            compiler = query.get_compiler(connection=connection)
            sql, params = compiler.as_sql()
            # compiler.select is what as_sql chose to read, in its order.
            columns = [column for column, _sql, _alias in compiler.select]
            targets = [getattr(column, "target", None) for column in columns]
            compiled = self._compiled[key] = _Compiled(
                sql=sql,
                params=list(params),
                names=frozenset(p.name for p in params if isinstance(p, Param)),
                # Bound to this thread's connection; they read the settings only (the
                # time zone, say), the same for every connection to the database.
                converters=tuple(compiler.get_converters(columns).items()),
                model=queryset.model,
                fields=[target.attname if target else None for target in targets],
                of_instances=not (
                    query.values_select or query.annotation_select or query.select_related
                ),
            )
        return compiled

    @staticmethod
    def _run(compiled, values):
        if values.keys() != compiled.names:
            raise TypeError(f"this query takes {sorted(compiled.names)}, not {sorted(values)}")
        if None in values.values():
            raise ValueError("a Param is never None: give the query a shape without it")
        params = [
            p.output_field.get_db_prep_value(values[p.name], connection)
            if isinstance(p, Param)
            else p
            for p in compiled.params
        ]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if not compiled.converters:
            return rows
        return [_convert(row, compiled.converters) for row in rows]


def _convert(row, converters):
    row = list(row)
    for position, (functions, expression) in converters:
        for convert in functions:
            row[position] = convert(row[position], expression, connection)
    return tuple(row)
