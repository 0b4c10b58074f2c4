//! Translations (see `mod.rs`): the live class (`app/panels/class.rs`,
//! `app/command/class.rs`, the File menu's class items, a student's
//! question).

pub const TEXT: &[(&str, &str)] = &[
    ("Live class", "Урок в классе"),
    ("End the class", "Завершить урок"),
    ("Leave the class", "Выйти из класса"),
    ("Start a class…", "Начать урок с классом…"),
    (
        "Serve this app on the room's network: students open the link (or scan the QR code), follow your steps and answer every Predict question; the projector shows how the room answered",
        "Открыть приложение для локальной сети класса: ученики открывают ссылку (или сканируют QR-код), следуют за вашими шагами и отвечают на каждый вопрос режима «Предсказать»; проектор показывает, как ответил класс",
    ),
    ("Could not start the class: {why}", "Не удалось начать урок: {why}"),
    ("The class server says: {message}", "Сервер класса сообщает: {message}"),
    ("Reconnecting…", "Переподключение…"),
    ("Connecting…", "Подключение…"),
    ("The class's code", "Код класса"),
    ("Hide the join code", "Скрыть код для входа"),
    ("Show the join code", "Показать код для входа"),
    (
        "Step through the backward pass in Predict mode: each question goes to every student.",
        "Проходите обратный проход в режиме «Предсказать»: каждый вопрос уходит всем ученикам.",
    ),
    ("{n} students joined", "учеников подключилось: {n}"),
    (
        "{joined} joined · {here} connected",
        "подключилось {joined} · на связи {here}",
    ),
    ("{answered} of {joined} answered", "ответили {answered} из {joined}"),
    ("Hide the answers", "Скрыть ответы"),
    ("Show the answers", "Показать ответы"),
    ("Discuss and vote again", "Обсудить и ответить снова"),
    (
        "Round 1 closes: the class talks it over with a neighbour and answers again (round 2 is kept apart)",
        "Первый раунд закрывается: ученики обсуждают вопрос с соседом и отвечают снова (второй раунд хранится отдельно)",
    ),
    ("Reveal", "Показать ответ"),
    (
        "Where the class clicked is drawn on the map: the larger the disc, the more students.",
        "Куда нажимал класс, показано на карте: чем больше круг, тем больше учеников.",
    ),
    ("Round {n}", "Раунд {n}"),
    ("{n} answered", "ответили: {n}"),
    ("Class {code}", "Класс {code}"),
    ("Explore on my own", "Исследовать самому"),
    (
        "Leave the teacher's moment and step through it yourself",
        "Уйти от момента учителя и пройти шаги самостоятельно",
    ),
    ("Follow the teacher", "Следовать за учителем"),
    ("The answer is revealed.", "Ответ открыт."),
    (
        "✔ Your answer is in (round {n}); you can change it until the round closes.",
        "✔ Ваш ответ принят (раунд {n}); его можно изменить, пока раунд не закрыт.",
    ),
    ("Sending your answer…", "Ответ отправляется…"),
    (
        "Discuss with a neighbour, then answer again.",
        "Обсудите с соседом и ответьте снова.",
    ),
    ("Answer the question on your screen.", "Ответьте на вопрос на экране."),
    ("The round is closed.", "Раунд закрыт."),
    ("Waiting for the teacher's question.", "Ждём вопроса учителя."),
    ("Revealed", "Ответ открыт"),
    ("Round 1: answering", "Раунд 1: ответы"),
    ("Round 2: voting again", "Раунд 2: повторное голосование"),
    ("Closed", "Закрыт"),
    ("No question open", "Вопрос не задан"),
    ("Send my answer", "Отправить ответ"),
    (
        "The result is covered until the teacher reveals it. Answer, then send: you can change your answer until the round closes.",
        "Результат скрыт, пока учитель его не откроет. Ответьте и отправьте: ответ можно менять, пока раунд не закрыт.",
    ),
    (
        "Predict mode: choose that option of the question on screen",
        "Режим «Предсказать»: выбрать этот вариант ответа на вопрос на экране",
    ),
    (
        "Live class: show or hide how the room answered",
        "Урок в классе: показать или скрыть, как ответил класс",
    ),
    (
        "Live class: discuss and vote again (round 2)",
        "Урок в классе: обсудить и ответить снова (раунд 2)",
    ),
    ("Your name (optional)", "Ваше имя (необязательно)"),
    ("Use this name", "Использовать это имя"),
    ("answered", "ответили"),
    ("How the room answered", "Как ответил класс"),
    ("A live class's database", "База данных урока в классе"),
    (
        "No file dialog is available here: use backprop-viz class-report --db FILE.",
        "Диалог выбора файлов здесь недоступен: используйте backprop-viz class-report --db FILE.",
    ),
    ("The live class's report", "Отчёт об уроке в классе"),
    ("Copy", "Копировать"),
    ("Class report…", "Отчёт об уроке…"),
    (
        "A live class's database (class.sqlite): per question and round, how many answered, how many were right, and the shift after the discussion",
        "База данных урока (class.sqlite): по каждому вопросу и раунду — сколько ответили, сколько верно и как изменилось после обсуждения",
    ),
    (
        "the network has learnt from a drawing since its last reset, and no link replays that: press Reset to share again",
        "с последнего сброса сеть обучилась на рисунке, а ссылка такое не воспроизводит: нажмите «Сброс», чтобы снова делиться",
    ),
    (
        "Teach it first and step through to its update: the answer is the network's after that step.",
        "Сначала обучите сеть и пройдите шаг до обновления: ответ — это ответ сети после этого шага.",
    ),
    (
        "✔ Right: after one step on the teacher's drawing the network answers {answer}.",
        "✔ Верно: после одного шага на рисунке учителя сеть отвечает {answer}.",
    ),
    (
        "✘ You answered {guess}; after one step on the teacher's drawing the network answers {answer}. One small step moves the weights only a little.",
        "✘ Вы ответили {guess}; после одного шага на рисунке учителя сеть отвечает {answer}. Один маленький шаг сдвигает веса совсем немного.",
    ),
    (
        "After one step on the teacher's drawing the network answers {answer}.",
        "После одного шага на рисунке учителя сеть отвечает {answer}.",
    ),
    (
        "The class predicts which digit the network will answer after one step on this drawing, taught as a {label}. Teach it, step through to the update, then reveal.",
        "Класс предсказывает, какую цифру ответит сеть после одного шага обучения на этом рисунке как на цифре {label}. Обучите, пройдите шаг до обновления, затем покажите ответ.",
    ),
    ("Ask the class first", "Сначала спросить класс"),
    (
        "Every student predicts which digit the network will answer after one step on this drawing with this label",
        "Каждый ученик предсказывает, какую цифру ответит сеть после одного шага обучения на этом рисунке с этой меткой",
    ),
    (
        "After one step on this drawing taught as a {label}, which digit will the network answer?",
        "Какую цифру ответит сеть после одного шага обучения на этом рисунке как на цифре {label}?",
    ),
    (
        "The teacher teaches the network that this drawing is a {label}. After that one step, which digit will the network answer?",
        "Учитель учит сеть, что на этом рисунке цифра {label}. Какую цифру ответит сеть после этого одного шага?",
    ),
    ("✔ Right: the network answers {answer}.", "✔ Верно: сеть отвечает {answer}."),
    (
        "✘ The network answers {answer}, not {guess}: one small step moves the weights only a little.",
        "✘ Сеть отвечает {answer}, а не {guess}: один маленький шаг сдвигает веса совсем немного.",
    ),
    ("The network answers {answer}.", "Сеть отвечает {answer}."),
];
