package petstore

import (
	"context"
	"errors"
	"fmt"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// AMQPExchange is where the order service reads and answers over AMQP:
// the topic exchange the AMQP transport uses for a channel without
// bindings, with the topic names as routing keys.
const AMQPExchange = "amq.topic"

// ServeAMQP answers orders on the AMQP 0-9-1 broker at url (routing keys
// place-order and confirm-order on amq.topic, the correlation id a
// header) until ctx ends. ready is closed once its queue is bound.
func (o *Orders) ServeAMQP(ctx context.Context, url string, ready chan<- struct{}) error {
	c, err := amqp091.Dial(url)
	if err != nil {
		return err
	}
	defer c.Close()
	ch, err := c.Channel()
	if err != nil {
		return err
	}
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		return err
	}
	if err := ch.QueueBind(q.Name, OrderTopic, AMQPExchange, false, nil); err != nil {
		return err
	}
	deliveries, err := ch.Consume(q.Name, "pet-orders", true, true, false, false, nil)
	if err != nil {
		return err
	}
	if ready != nil {
		close(ready)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case d, ok := <-deliveries:
			if !ok {
				return errors.New("the broker closed the order service's channel")
			}
			corr := ""
			if v, ok := d.Headers[CorrelationHeader]; ok {
				corr = fmt.Sprint(v)
			}
			o.reply(corr, d.Body, func(corr string, body []byte) {
				_ = ch.PublishWithContext(ctx, AMQPExchange, ConfirmTopic, false, false, amqp091.Publishing{
					ContentType: "application/json", Headers: amqp091.Table{CorrelationHeader: corr}, Body: body})
			})
		}
	}
}
