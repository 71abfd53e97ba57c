"""What the import says about a row or a batch, in English and Japanese, by stable code (the
field rules' own codes come from ``api.fields.messages``; the file's from
``api.tabular.messages``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.fields.messages import Message

MESSAGES: dict[str, Message] = {
    "import_unknown_group": Message(
        "no group is named {groups} (the groups column): create it first, or use a group's key",
        "{groups} という名前のグループはありません（グループ列）。"
        "先に作成するか、グループのキーを使ってください",
    ),
    "import_key_empty": Message(
        "the key is empty: the row cannot be matched", "キーが空のため、照合できません"
    ),
    "import_duplicate_key": Message(
        "repeats the key of row {first}; only the first is imported",
        "{first} 行目と同じキーです。最初の行だけを取り込みます",
    ),
    "import_exists": Message(
        "a record with this key already exists (id {id}); insert mode adds new records only",
        "このキーのレコードが既にあります（ID {id}）。新規登録モードでは追加のみ行います",
    ),
    "import_not_found": Message(
        "no record has this key; update mode changes existing records only",
        "このキーのレコードがありません。更新モードでは既存のレコードだけを変更します",
    ),
    "import_key_ambiguous": Message(
        "{count} records share this key; choose a key that names one record",
        "このキーのレコードが {count} 件あります。1 件に決まるキーを選んでください",
    ),
    "import_not_owner": Message(
        "record {id} is not yours: sales staff update only the records they own",
        "レコード {id} は担当外です。営業担当は自分のレコードだけを更新できます",
    ),
    "taken": Message(
        "another record already has this value (the field is unique)",
        "この値は他のレコードで使われています（重複できない項目です）",
    ),
    "not_found": Message(
        "there is no such record in {table}", "{table} にそのレコードがありません"
    ),
    "import_aborted": Message(
        "not imported: the import was all or nothing and {invalid} row(s) were refused",
        "取り込んでいません：一括取り込み（すべてか無し）で {invalid} 行が不正でした",
    ),
    "import_unknown_field": Message(
        "“{field}” is not a field of this table", "「{field}」はこのテーブルの項目ではありません"
    ),
    "import_retired_field": Message(
        "“{field}” is a retired field", "「{field}」は廃止された項目です"
    ),
    "import_file_field": Message(
        "“{field}” is a file field: files are uploaded on the record",
        "「{field}」はファイル項目です。ファイルはレコード画面からアップロードしてください",
    ),
    "import_mapped_twice": Message(
        "“{field}” is mapped from columns {first} and {column}",
        "「{field}」が {first} 列目と {column} 列目の両方に割り当てられています",
    ),
    "import_no_key": Message(
        "choose the key field(s) that match rows to records (update and upsert need one)",
        "行とレコードを照合するキー項目を選んでください（更新・登録更新では必須です）",
    ),
    "import_key_not_mapped": Message(
        "the key field “{field}” is mapped from no column",
        "キー項目「{field}」がどの列にも割り当てられていません",
    ),
    "import_nothing_mapped": Message(
        "no column is mapped to a field", "項目に割り当てられた列がありません"
    ),
    "import_too_large": Message(
        "The file is larger than the limit of {limit} MB.",
        "ファイルが上限の {limit} MB を超えています。",
    ),
    "import_file_missing": Message(
        "Send the file as the multipart part named “file”.",
        "ファイルを「file」という名前のマルチパートで送ってください。",
    ),
    "import_encoding": Message(
        "choose auto, utf-8 or cp932", "auto、utf-8、cp932 のいずれかを選んでください"
    ),
    "import_state": Message(
        "The import is {state}: it cannot be {action} now.",
        "このインポートは現在「{state}」のため、{action}できません。",
    ),
    "import_interrupted": Message(
        "The import stopped ({reason}). {done} of {total} rows are done, in whole chunks "
        "({created} created, {updated} updated, {refused} refused); the {rest} rows from row "
        "{row} on are not in. Resume the import to continue from row {row}, or undo it to "
        "remove what went in.",
        "インポートが途中で止まりました（{reason}）。{total} 行のうち {done} 行は区切りごと"
        "取り込み済みです（新規 {created} 件、更新 {updated} 件、エラー {refused} 件）。"
        "{row} 行目からの {rest} 行は取り込まれていません。再開すると {row} 行目から続きを"
        "取り込みます。取り消すと取り込んだ分を元に戻します。",
    ),
    "import_interrupted_none": Message(
        "The import stopped ({reason}) before any row went in: nothing was written. Resume "
        "the import to start it again.",
        "インポートが 1 行も取り込む前に止まりました（{reason}）。何も書き込んでいません。"
        "再開すると最初から取り込みます。",
    ),
    "import_check_stopped": Message(
        "The dry run stopped ({reason}); nothing was written. Run it again.",
        "事前確認が途中で止まりました（{reason}）。何も書き込んでいません。もう一度実行して"
        "ください。",
    ),
    "import_undo_interrupted": Message(
        "The undo stopped ({reason}). {done} of the import's {total} changes are undone "
        "({deleted} records deleted, {restored} fields restored); the others are still as "
        "the import left them. Undo again to continue where it stopped.",
        "取り消しが途中で止まりました（{reason}）。インポートによる変更 {total} 件のうち "
        "{done} 件を元に戻しました（削除 {deleted} 件、復元 {restored} 項目）。残りは"
        "インポートした状態のままです。もう一度取り消すと、止まったところから続けます。",
    ),
    "import_file_expired": Message(
        "The uploaded file is no longer kept (it was removed after the retention period): "
        "this import can no longer be checked, run or resumed. Its counts, error report and "
        "undo still work.",
        "アップロードしたファイルは保存期間を過ぎたため削除しました。このインポートは"
        "事前確認・実行・再開ができません。件数、エラーレポート、取り消しは引き続き使えます。",
    ),
    "import_abandoned": Message(
        "The file was uploaded but not imported within {days} days, so it was removed. "
        "Upload it again to import it.",
        "アップロードから {days} 日以内に取り込まれなかったため、ファイルを削除しました。"
        "取り込むにはもう一度アップロードしてください。",
    ),
}
# Why a step stopped, when its job was cancelled (else the failed chunk and its error).
CANCELLED = Message("the job was cancelled", "ジョブが取り消されました")


def both(code: str, params: Mapping[str, Any] | None = None) -> tuple[str, str]:
    """The message in English and Japanese."""
    return message(code, params), message(code, params, "ja")


def message(code: str, params: Mapping[str, Any] | None = None, locale: str = "en") -> str:
    entry = MESSAGES.get(code)
    if entry is None:
        return code
    text = entry.ja if locale == "ja" else entry.en
    try:
        return text.format(**dict(params or {}))
    except (KeyError, IndexError):
        return text
