"""Who holds which role on a board (`board_members`); what each role may do is
bot/services/permissions.py."""

from __future__ import annotations

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from bot.domain import Role
from storage.models import BoardMember, Person


def role_on(session: Session, board_id: int, person_id: int) -> Role:
    """`person_id`'s role on the board (NONE when they hold none)."""
    role = session.scalar(
        select(BoardMember.role).where(
            BoardMember.board_id == board_id, BoardMember.person_id == person_id
        )
    )
    return role or Role.NONE


def put_role(session: Session, board_id: int, person_id: int, role: Role) -> None:
    """Give `person_id` `role` on the board (NONE takes their role away)."""
    row = session.get(BoardMember, (board_id, person_id))
    if role == Role.NONE:
        if row is not None:
            session.execute(
                delete(BoardMember).where(
                    BoardMember.board_id == board_id, BoardMember.person_id == person_id
                )
            )
        return
    if row is None:
        session.add(BoardMember(board_id=board_id, person_id=person_id, role=role))
    else:
        row.role = role
    session.flush()


def holders(board_id: int, *roles: Role) -> Select[Person]:
    """People holding one of `roles` on the board, still there, by id."""
    return (
        select(Person)
        .join(BoardMember, BoardMember.person_id == Person.id)
        .where(
            BoardMember.board_id == board_id,
            BoardMember.role.in_(roles),
            Person.left_at.is_(None),
        )
        .order_by(Person.id)
    )


def boards_of(session: Session, person_id: int) -> list[int]:
    """The boards `person_id` holds a role on."""
    return list(
        session.scalars(
            select(BoardMember.board_id)
            .where(BoardMember.person_id == person_id)
            .order_by(BoardMember.board_id)
        )
    )
